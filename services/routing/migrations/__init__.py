"""routing's Alembic migrations (packaged so the migration Job can run them)."""
