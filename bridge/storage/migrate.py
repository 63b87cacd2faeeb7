"""Run the Alembic migrations from code: `upgrade`, `current`, `is_current`.

The Alembic `Config` is built here with `script_location` inside the package, so no
alembic.ini is needed at run time. `memory://` has no schema to migrate: it is
always current.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bridge.storage.engine import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision the code knows."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migration found under {MIGRATIONS}")
    return revision


def upgrade(url: str, *, schema: str | None = None, revision: str = "head") -> None:
    """Bring the database at `url` (and `schema`, PostgreSQL only) up to `revision`."""
    if _is_memory(url):
        return
    engine = make_engine(url, schema=schema)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()


def current(url: str, *, schema: str | None = None) -> str | None:
    """The database's revision, None for an empty database."""
    if _is_memory(url):
        return head()
    engine = make_engine(url, schema=schema)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def is_current(url: str, *, schema: str | None = None) -> bool:
    return current(url, schema=schema) == head()


def _is_memory(url: str) -> bool:
    return url.startswith("memory://")
