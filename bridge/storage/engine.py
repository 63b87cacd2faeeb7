"""Engines for the SQL store and the migrations, set up the same way for both.

SQLite: foreign keys on, WAL journal (file databases), a busy timeout, all set on
every new connection. PostgreSQL (`postgresql+psycopg://`): a connect timeout, TCP keepalives and
a user timeout, a pre-ping pool with a bounded wait, and an optional schema put first
on the search path.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from bridge.errors import InvalidInput

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    connect_timeout: float = 5.0,
    schema: str | None = None,
) -> Engine:
    """An engine for `url`; `schema` (PostgreSQL only) becomes the search path."""
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        if schema is not None:
            raise InvalidInput("schema", "a schema is only supported on PostgreSQL")
        return _sqlite_engine(url, connect_timeout)
    if dialect == "postgresql":
        return _postgres_engine(url, pool_size, connect_timeout, schema)
    raise InvalidInput(
        "database_url", f"dialect `{dialect}` is not supported; expected sqlite or postgresql"
    )


def _sqlite_engine(url: str, connect_timeout: float) -> Engine:
    engine = create_engine(url, connect_args={"timeout": connect_timeout})
    busy_ms = int(connect_timeout * 1000)
    in_memory = make_url(url).database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    return engine


def _postgres_engine(
    url: str, pool_size: int, connect_timeout: float, schema: str | None
) -> Engine:
    """A server that vanishes mid-connection (a partition, not a clean restart) must not
    hold a request forever: TCP keepalives and `tcp_user_timeout` (unacknowledged data)
    end a dead connection within a few connect timeouts; the pool waits at most
    `connect_timeout` for a free connection."""
    seconds = max(1, math.ceil(connect_timeout))
    connect_args: dict[str, Any] = {
        "connect_timeout": seconds,
        "keepalives": 1,
        "keepalives_idle": max(5, 2 * seconds),
        "keepalives_interval": seconds,
        "keepalives_count": 3,
        "tcp_user_timeout": 1000 * max(5, 3 * seconds),
    }
    if schema is not None:
        connect_args["options"] = f"-csearch_path={checked_schema(schema)}"
    return create_engine(
        url,
        pool_size=pool_size,
        pool_pre_ping=True,
        pool_timeout=connect_timeout,
        connect_args=connect_args,
    )


def checked_schema(schema: str) -> str:
    """The schema name when it is a plain lower-case identifier (it goes into SQL text)."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise InvalidInput(
            "schema", f"`{schema}` must be a lower-case identifier of at most 63 characters"
        )
    return schema
