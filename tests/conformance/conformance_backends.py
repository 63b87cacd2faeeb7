"""Backend helpers for the conformance suites (imported by conftest and the tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bridge.storage import migrate
from bridge.storage.models import Base
from bridge.storage.sql import SqlStore

POSTGRES_URL = os.environ.get(
    "BRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class PostgresSchema:
    url: str
    schema: str


def empty_tables(store: SqlStore) -> None:
    """Delete every row (the schema stays migrated) so each test starts empty."""
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    migrate.upgrade(url)
    return url
