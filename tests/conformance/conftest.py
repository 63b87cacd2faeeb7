"""Backends for the conformance suites: the same tests run against every store.

- `memory`: `MemoryStore`.
- `sqlite`: a file under `tmp_path`, migrated with `migrate.upgrade`.
- `postgres`: one fresh schema `bridge_test_<hex>` per test session in the database
  of `BRIDGE_TEST_POSTGRES_URL`, migrated once, emptied before each test and dropped
  (CASCADE) at the end.
- `redis` (one-time use only): `BRIDGE_TEST_REDIS_URL`, keys under a random prefix.

A missing PostgreSQL or Redis skips those cases, or fails them when `CI` is set.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conformance_backends import (
    POSTGRES_URL,
    PostgresSchema,
    empty_tables,
    sqlite_url,
)
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bridge.clock import FixedClock
from bridge.storage import migrate
from bridge.storage.interfaces import Store
from bridge.storage.memory import MemoryStore
from bridge.storage.sql import SqlStore
from tests.conftest import service_unavailable

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema]:
    """A migrated schema of its own for this test session, dropped at the end."""
    schema = f"bridge_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        service_unavailable("PostgreSQL", str(exc.orig).strip().splitlines()[0])
    try:
        migrate.upgrade(POSTGRES_URL, schema=schema)
        yield PostgresSchema(POSTGRES_URL, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


StoreFactory = Callable[[], Store]


@pytest.fixture(params=BACKENDS)
def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock
) -> Iterator[StoreFactory]:
    """Opens stores on one backend; stores opened by one test share their data."""
    opened: list[Store] = []
    make = _factory(request, tmp_path, clock)

    def open_one() -> Store:
        opened.append(make())
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def _factory(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> StoreFactory:
    if request.param == "memory":
        shared = MemoryStore(clock=clock)
        return lambda: shared
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        return lambda: SqlStore(url, clock=clock)
    pg: PostgresSchema = request.getfixturevalue("postgres_schema")
    cleaner = SqlStore(pg.url, schema=pg.schema)
    try:
        empty_tables(cleaner)
    finally:
        cleaner.close()
    return lambda: SqlStore(pg.url, clock=clock, schema=pg.schema)


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()
