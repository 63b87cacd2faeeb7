"""The browser-session repository behaves the same on memory, SQLite, PostgreSQL and Redis.

Expiry follows the injected clock on every backend (Redis also carries `expires_at`
in the value and checks it on read; its own TTL only cleans up).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from conformance_backends import REDIS_URL, PostgresSchema, empty_tables, sqlite_url

from bridge.clock import FixedClock
from bridge.storage.browser_sessions import (
    BrowserSessionRecord,
    BrowserSessionRepository,
    MemoryBrowserSessions,
    open_browser_sessions,
)
from bridge.storage.redis_sessions import PREFIX, RedisBrowserSessions
from bridge.storage.sql import SqlStore
from bridge.storage.sql_sessions import SqlBrowserSessions
from tests.conftest import service_unavailable


@dataclass
class Backend:
    repo: BrowserSessionRepository
    clock: FixedClock
    expires_by_itself: bool = False


def _redis(clock: FixedClock) -> Iterator[Backend]:
    prefix = f"{PREFIX}test-{secrets.token_hex(6)}:"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", str(exc))
    repo = RedisBrowserSessions(REDIS_URL, clock=clock, prefix=prefix)
    try:
        yield Backend(repo, clock, expires_by_itself=True)
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        repo.close()
        client.close()


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    clock = FixedClock()
    if request.param == "redis":
        yield from _redis(clock)
        return
    if request.param == "memory":
        yield Backend(MemoryBrowserSessions(clock), clock)
        return
    if request.param == "sqlite":
        store = SqlStore(sqlite_url(tmp_path), clock=clock)
    else:
        pg: PostgresSchema = request.getfixturevalue("postgres_schema")
        store = SqlStore(pg.url, clock=clock, schema=pg.schema)
        empty_tables(store)
    yield Backend(SqlBrowserSessions(store.engine, clock=clock), clock)
    store.close()


def _record(clock: FixedClock, key: str = "a" * 64, minutes: int = 30) -> BrowserSessionRecord:
    now = clock.now()
    return BrowserSessionRecord(
        key=key,
        payload='{"csrf":"x","signed_in":null}',
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )


def test_a_stored_record_reads_back_field_for_field(backend: Backend) -> None:
    record = _record(backend.clock)
    backend.repo.put(record)
    assert backend.repo.get(record.key) == record


def test_an_absent_key_reads_as_none(backend: Backend) -> None:
    assert backend.repo.get("b" * 64) is None


def test_put_replaces_the_record_with_the_same_key(backend: Backend) -> None:
    first = _record(backend.clock)
    backend.repo.put(first)
    backend.clock.advance(60)
    second = replace(first, payload='{"n":2}', last_seen_at=backend.clock.now())
    backend.repo.put(second)
    assert backend.repo.get(first.key) == second


def test_keys_are_independent(backend: Backend) -> None:
    one, two = _record(backend.clock, "1" * 64), _record(backend.clock, "2" * 64)
    backend.repo.put(one)
    backend.repo.put(two)
    backend.repo.remove(one.key)
    assert (backend.repo.get(one.key), backend.repo.get(two.key)) == (None, two)


def test_remove_of_an_absent_key_is_quiet(backend: Backend) -> None:
    backend.repo.remove("c" * 64)
    assert backend.repo.get("c" * 64) is None


@pytest.mark.parametrize(
    ("waited_minutes", "alive"),
    [
        pytest.param(29, True, id="before-expiry"),
        pytest.param(30, False, id="at-expiry"),
        pytest.param(31, False, id="after-expiry"),
    ],
)
def test_a_record_reads_as_absent_from_its_expiry(
    backend: Backend, waited_minutes: int, alive: bool
) -> None:
    record = _record(backend.clock)
    backend.repo.put(record)
    backend.clock.advance(waited_minutes * 60)
    assert (backend.repo.get(record.key) is not None) is alive


def test_purge_deletes_only_expired_records(backend: Backend) -> None:
    short, long = _record(backend.clock, "s" * 64, 5), _record(backend.clock, "l" * 64, 60)
    backend.repo.put(short)
    backend.repo.put(long)
    backend.clock.advance(10 * 60)
    purged = backend.repo.purge()
    assert purged == (0 if backend.expires_by_itself else 1)
    assert backend.repo.get(long.key) == long


def test_open_picks_the_store_table_or_memory(tmp_path: Path) -> None:
    clock = FixedClock()
    store = SqlStore(sqlite_url(tmp_path), clock=clock)
    try:
        assert isinstance(open_browser_sessions(None, store, clock), SqlBrowserSessions)
        assert isinstance(open_browser_sessions(None, object(), clock), MemoryBrowserSessions)
        redis_repo = open_browser_sessions(REDIS_URL, store, clock)
        assert isinstance(redis_repo, RedisBrowserSessions)
        redis_repo.close()
    finally:
        store.close()
