"""Persistence: SQLModel tables, repository functions (every query lives here), migrations."""
