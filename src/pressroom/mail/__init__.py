"""Mail: templates rendered to messages, and the senders that deliver them (SMTP, or `.eml`
files in development). Knows nothing of accounts: it is given an address, a template's name and
what to fill it with."""
