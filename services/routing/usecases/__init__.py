"""Routing's use cases: each runs in one database transaction it is given."""
