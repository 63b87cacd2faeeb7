"""`use_once` behaves the same on every backend: memory, SQLite, PostgreSQL and Redis.

The memory and SQL stores take their time from a `FixedClock`. Redis expires keys on
its own clock, so for Redis the test also lets real time pass (the expiries are short).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from conformance_backends import (
    REDIS_URL,
    PostgresSchema,
    empty_tables,
    sqlite_url,
)

from bridge.clock import FixedClock
from bridge.storage.interfaces import OneTimeUse
from bridge.storage.memory import MemoryStore
from bridge.storage.redis_once import PREFIX, RedisOneTimeUse
from bridge.storage.sql import SqlStore
from tests.conftest import service_unavailable

RACERS = 8


@dataclass
class Backend:
    once: OneTimeUse
    clock: FixedClock
    real_time: bool

    def let_pass(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if self.real_time:
            time.sleep(seconds)


def _redis(clock: FixedClock) -> Iterator[Backend]:
    prefix = f"{PREFIX}test-{secrets.token_hex(6)}:"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", str(exc))
    once = RedisOneTimeUse(REDIS_URL, clock=clock, prefix=prefix)
    try:
        yield Backend(once, clock, real_time=True)
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        once.close()
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
        yield Backend(MemoryStore(clock=clock), clock, real_time=False)
        return
    if request.param == "sqlite":
        store = SqlStore(sqlite_url(tmp_path), clock=clock)
    else:
        pg: PostgresSchema = request.getfixturevalue("postgres_schema")
        store = SqlStore(pg.url, clock=clock, schema=pg.schema)
        empty_tables(store)
    yield Backend(store, clock, real_time=False)
    store.close()


def test_first_use_is_true_and_every_later_use_false(backend: Backend) -> None:
    expires = backend.clock.now() + timedelta(hours=1)
    answers = [backend.once.use_once("assertion-1", expires) for _ in range(3)]
    assert answers == [True, False, False]


def test_keys_are_independent(backend: Backend) -> None:
    expires = backend.clock.now() + timedelta(hours=1)
    answers = [backend.once.use_once(k, expires) for k in ("a", "b", "A", "a ", "a")]
    assert answers == [True, True, True, True, False]


@pytest.mark.parametrize(
    ("lifetime", "waited", "again"),
    [(0.4, 0.2, False), (0.3, 0.6, True)],
    ids=["before-expiry", "after-expiry"],
)
def test_a_key_can_be_used_again_only_after_it_expires(
    backend: Backend, lifetime: float, waited: float, again: bool
) -> None:
    expires = backend.clock.now() + timedelta(seconds=lifetime)
    assert backend.once.use_once("nonce", expires) is True
    backend.let_pass(waited)
    assert backend.once.use_once("nonce", backend.clock.now() + timedelta(hours=1)) is again


def test_a_reused_key_keeps_its_new_expiry(backend: Backend) -> None:
    backend.once.use_once("state", backend.clock.now() + timedelta(seconds=0.2))
    backend.let_pass(0.4)
    assert backend.once.use_once("state", backend.clock.now() + timedelta(hours=1)) is True
    backend.let_pass(0.4)
    assert backend.once.use_once("state", backend.clock.now() + timedelta(hours=1)) is False


@pytest.mark.parametrize("expired_first", [False, True], ids=["fresh-key", "expired-key"])
def test_racing_threads_get_exactly_one_true(backend: Backend, expired_first: bool) -> None:
    if expired_first:
        backend.once.use_once("token", backend.clock.now() + timedelta(seconds=0.1))
        backend.let_pass(0.3)
    expires = backend.clock.now() + timedelta(hours=1)
    barrier = threading.Barrier(RACERS)
    answers: list[bool] = []
    lock = threading.Lock()

    def race() -> None:
        barrier.wait()
        answer = backend.once.use_once("token", expires)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=race) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [False] * (RACERS - 1) + [True]
