"""Background jobs: rows written in the transaction of the change that causes them, run by
workers that claim them under a lease (docs/design.md, "Background jobs")."""
