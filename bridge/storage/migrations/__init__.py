"""Alembic migrations, run through `bridge.storage.migrate` (no alembic.ini needed)."""
