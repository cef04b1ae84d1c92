"""Accounts by email: verification, password reset and email change, each through a
single-use token mailed by a background job (docs/api.md, "Accounts by email")."""
