"""Storage: the records, an in-memory store, a SQL store and one-time-use keys.

`open_store` picks the implementation from the URL. It never migrates: the CLI runs
`bridge.storage.migrate.upgrade` explicitly.
"""

from __future__ import annotations

from bridge.clock import Clock
from bridge.errors import InvalidInput
from bridge.storage.interfaces import Store
from bridge.storage.memory import MemoryStore
from bridge.storage.sql import SqlStore

MEMORY_URL = "memory://"
_SQL_SCHEMES = ("sqlite", "postgresql+psycopg")


def open_store(
    url: str,
    *,
    clock: Clock | None = None,
    pool_size: int = 5,
    connect_timeout: float = 5.0,
) -> Store:
    """`memory://` → `MemoryStore`; `sqlite:///…` or `postgresql+psycopg://…` → `SqlStore`."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "memory":
        return MemoryStore(clock=clock)
    if scheme in _SQL_SCHEMES:
        return SqlStore(url, clock=clock, pool_size=pool_size, connect_timeout=connect_timeout)
    raise InvalidInput(
        "database_url",
        f"scheme `{scheme}` is not supported; expected `memory`, `sqlite` or `postgresql+psycopg`",
    )
