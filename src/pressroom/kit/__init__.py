"""Cross-cutting pieces that know nothing of users or posts."""
