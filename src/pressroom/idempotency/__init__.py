"""Idempotency keys: which POST was first sent with a key, and the reply to send again."""
