"""The team server: the webhook plus the team API and event stream, with its state in PostgreSQL."""
