"""Database access: the engine per URL, the table definitions and the migrations."""
