"""The directory cache through a database outage (PostgreSQL behind a proxy the test stops
and starts): the last generation's entries for at most five minutes, then fail closed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from cache_support import POSTGRES_URL, directory_on, empty_schema, postgres_schema
from directory_support import identity_doc, trust_doc

from bridge.clock import FixedClock
from bridge.directory import Directory
from bridge.directory.cache import DEFAULT_STALE_LIMIT
from bridge.errors import StorageUnavailable
from bridge.storage.sql import SqlStore
from tests.support.tcp_proxy import TcpProxy, running_proxy

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    with postgres_schema() as name:
        yield name


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with running_proxy("127.0.0.1", 5432) as running:
        yield running


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def directory(proxy: TcpProxy, schema: str, clock: FixedClock) -> Iterator[Directory]:
    empty_schema(schema)
    url = POSTGRES_URL.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    store = SqlStore(url, clock=clock, connect_timeout=1, schema=schema)
    built = directory_on(store, clock)
    built.roles.create("deploy", trust_doc())
    built.inline_policies.put("role", "deploy", "own", identity_doc())
    yield built
    store.close()


def _role_id(directory: Directory) -> str:
    return directory.roles.get("deploy").role_id


def _outcome(directory: Directory, role_id: str) -> str:
    try:
        return directory.policies_for_role(role_id).identity[0][1]
    except StorageUnavailable:
        return "unavailable"


@pytest.mark.parametrize(
    ("down_for", "outcome"),
    [
        pytest.param(timedelta(seconds=2), "cached", id="served-while-young"),
        pytest.param(DEFAULT_STALE_LIMIT - timedelta(seconds=1), "cached", id="at-the-limit"),
        pytest.param(DEFAULT_STALE_LIMIT, "unavailable", id="fails-closed-past-the-limit"),
    ],
)
def test_an_outage_serves_the_cache_for_a_bounded_time(
    directory: Directory, proxy: TcpProxy, clock: FixedClock, down_for: timedelta, outcome: str
) -> None:
    role_id = _role_id(directory)
    warm = _outcome(directory, role_id)
    proxy.stop()
    clock.advance(down_for.total_seconds())
    seen = _outcome(directory, role_id)
    assert (seen, directory.cached.cache.refresh_failures) == (
        warm if outcome == "cached" else outcome,
        1,
    )


def test_a_miss_needs_the_database_and_fails_closed(
    directory: Directory, proxy: TcpProxy, clock: FixedClock
) -> None:
    role_id = _role_id(directory)
    _outcome(directory, role_id)
    proxy.stop()
    clock.advance(2)
    with pytest.raises(StorageUnavailable):
        directory.policies_for_user("AIDANEVERSEEN")


def test_a_failed_refresh_is_retried_once_per_ttl_and_recovers(
    directory: Directory, proxy: TcpProxy, clock: FixedClock, schema: str
) -> None:
    role_id = _role_id(directory)
    warm = _outcome(directory, role_id)
    proxy.stop()
    clock.advance(1)
    seen = []
    for _ in range(3):  # three reads within one ttl: one failed attempt
        seen.append(_outcome(directory, role_id))
        clock.advance(0.3)
    failures_within_ttl = directory.cached.cache.refresh_failures
    proxy.start()
    url = POSTGRES_URL.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    elsewhere = SqlStore(url, clock=clock, schema=schema)
    directory_on(elsewhere, clock).inline_policies.put("role", "deploy", "own", identity_doc("x:Y"))
    elsewhere.close()
    clock.advance(1)
    assert (seen, failures_within_ttl) == ([warm] * 3, 1)
    assert _outcome(directory, role_id) == identity_doc("x:Y")


def test_entries_outdated_by_a_change_made_here_are_not_served_stale(
    directory: Directory, proxy: TcpProxy
) -> None:
    role_id = _role_id(directory)
    _outcome(directory, role_id)
    directory.inline_policies.put("role", "deploy", "own", identity_doc("x:Y"))
    proxy.stop()
    assert _outcome(directory, role_id) == "unavailable"
