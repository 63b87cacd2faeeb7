"""Stores that cannot reach their server fail closed with `StorageUnavailable`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from bridge.clock import FixedClock
from bridge.errors import StorageUnavailable
from bridge.storage.redis_once import RedisOneTimeUse
from bridge.storage.sql import SqlStore

# Port 1 on the loopback: nothing listens there, so connecting is refused at once.
DEAD_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test"
DEAD_REDIS = "redis://127.0.0.1:1/0"
CLOCK = FixedClock()
LATER = CLOCK.now() + timedelta(hours=1)


def _list_users(store: SqlStore) -> None:
    with store.transaction() as uow:
        uow.users.list()


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.ping(),
        lambda s: s.use_once("k", LATER),
        _list_users,
    ],
    ids=["ping", "use-once", "transaction"],
)
def test_sql_store_without_a_server(call: Callable[[SqlStore], object]) -> None:
    store = SqlStore(DEAD_POSTGRES, clock=CLOCK, connect_timeout=1)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            call(store)
    finally:
        store.close()
    assert raised.value.message.startswith("database unavailable: ")


@pytest.mark.parametrize(
    "call",
    [lambda r: r.ping(), lambda r: r.use_once("k", LATER)],
    ids=["ping", "use-once"],
)
def test_redis_without_a_server_never_answers(call: Callable[[RedisOneTimeUse], object]) -> None:
    once = RedisOneTimeUse(DEAD_REDIS, clock=CLOCK, timeout=1)
    try:
        with pytest.raises(StorageUnavailable) as raised:
            call(once)
    finally:
        once.close()
    assert raised.value.message.startswith("redis unavailable: ")


def test_sql_store_on_a_missing_sqlite_directory_is_unavailable(tmp_path: object) -> None:
    store = SqlStore(f"sqlite:///{tmp_path}/no/such/dir/x.db", clock=CLOCK)
    try:
        with pytest.raises(StorageUnavailable):
            store.ping()
    finally:
        store.close()
