"""Helpers of the directory cache tests: stores sharing one database, as instances do."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from directory_support import ACCOUNT, CHEAP_HASHING, AesGcmSealer, SeededRandom
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bridge.clock import FixedClock
from bridge.directory import Directory
from bridge.storage import migrate
from bridge.storage.interfaces import Store
from bridge.storage.memory import MemoryStore
from bridge.storage.models import Base
from bridge.storage.sql import SqlStore
from tests.conftest import service_unavailable

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SEALER_KEY = bytes(range(32))
MD = "urn:oasis:names:tc:SAML:2.0:metadata"

StoreFactory = Callable[[], Store]


def metadata(valid_until: str = "2030-01-01T00:00:00Z") -> str:
    """SAML metadata of an IdP, valid until `valid_until`."""
    return (
        f'<md:EntityDescriptor xmlns:md="{MD}" entityID="https://idp.example.com"'
        f' validUntil="{valid_until}"><md:IDPSSODescriptor'
        ' protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
        "</md:EntityDescriptor>"
    )


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A migrated schema of its own, dropped at the end."""
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
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def empty_schema(schema: str) -> None:
    names = ", ".join(f'"{schema}"."{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()


@contextmanager
def shared_stores(
    backend: str, tmp_path: Path, clock: FixedClock, schema: str | None = None
) -> Iterator[StoreFactory]:
    """Opens stores on one database: separate `SqlStore`s for SQLite and PostgreSQL (as
    separate instances have), the same `MemoryStore` for memory (one process)."""
    opened: list[Store] = []
    shared = MemoryStore(clock=clock)
    url = ""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'bridge.db'}"
        migrate.upgrade(url)
    elif backend == "postgres":
        assert schema is not None
        empty_schema(schema)
        url = POSTGRES_URL

    def open_one() -> Store:
        if backend == "memory":
            return shared
        opened.append(SqlStore(url, clock=clock, schema=schema))
        return opened[-1]

    try:
        yield open_one
    finally:
        for store in opened:
            store.close()


def directory_on(store: Store, clock: FixedClock, seed: int = 7) -> Directory:
    return Directory(
        store,
        account_id=ACCOUNT,
        sealer=AesGcmSealer(SEALER_KEY),
        clock=clock,
        rng=SeededRandom(seed),
        hasher=CHEAP_HASHING,
    )
