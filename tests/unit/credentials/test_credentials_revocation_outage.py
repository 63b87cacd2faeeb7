"""The revocation list through a database outage (PostgreSQL behind a proxy the test
stops and starts), and its hourly purge."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bridge.clock import FixedClock
from bridge.credentials.revocation import DEFAULT_STALE_LIMIT, PURGE_INTERVAL, Revocations
from bridge.credentials.tokens import SessionClaims
from bridge.errors import StorageUnavailable
from bridge.storage import migrate
from bridge.storage.interfaces import Revocation
from bridge.storage.memory import MemoryStore
from bridge.storage.sql import SqlStore
from tests.conftest import service_unavailable
from tests.support.tcp_proxy import TcpProxy, running_proxy

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
SESSION = SessionClaims(
    token_id="tokenidtokenidtokenidtoken",
    access_key_id="ASIAABCDEFGHIJKLMNOP",
    secret_access_key="s" * 40,
    account_id="123456789012",
    kind="assumed-role",
    subject_id="AROAABCDEFGHIJKLMNOPQ",
    subject_name="deploy",
    subject_arn="arn:aws:iam::123456789012:role/deploy",
    session_name="alice",
    issued_at=T0,
    expires_at=T0 + timedelta(hours=1),
)


@pytest.fixture(scope="module")
def schema() -> Iterator[str]:
    name = f"bridge_test_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        service_unavailable("PostgreSQL", str(exc.orig).strip().splitlines()[0])
    try:
        migrate.upgrade(POSTGRES_URL, schema=name)
        yield name
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with running_proxy("127.0.0.1", 5432) as running:
        yield running


@pytest.fixture
def behind_proxy(proxy: TcpProxy, schema: str) -> Iterator[SqlStore]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test"
    store = SqlStore(url, clock=FixedClock(T0), connect_timeout=1, schema=schema)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM revocations"))
    yield store
    store.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("down_for", "outcome"),
    [
        pytest.param(timedelta(seconds=2), "revoked", id="stale-list-used-while-young"),
        pytest.param(DEFAULT_STALE_LIMIT - timedelta(seconds=1), "revoked", id="at-the-limit"),
        pytest.param(DEFAULT_STALE_LIMIT, "unavailable", id="fails-closed-past-the-limit"),
    ],
)
def test_an_outage_uses_the_last_list_for_a_bounded_time(
    behind_proxy: SqlStore, proxy: TcpProxy, down_for: timedelta, outcome: str
) -> None:
    clock = FixedClock(T0)
    revocations = Revocations(behind_proxy, clock=clock)
    revocations.revoke_session(SESSION.access_key_id)
    assert revocations.revoked_by(SESSION, now=clock.now()) is not None
    proxy.stop()
    clock.advance(down_for.total_seconds())
    try:
        found: str = "revoked" if revocations.revoked_by(SESSION, now=clock.now()) else "allowed"
    except StorageUnavailable:
        found = "unavailable"
    assert (found, revocations.refresh_failures) == (outcome, 1)


@pytest.mark.postgres
def test_a_failed_refresh_is_retried_once_per_ttl_and_recovers(
    behind_proxy: SqlStore, proxy: TcpProxy
) -> None:
    clock = FixedClock(T0)
    revocations = Revocations(behind_proxy, clock=clock)
    revocations.revoked_by(SESSION, now=clock.now())
    proxy.stop()
    seen = []
    for _ in range(3):  # three requests within one ttl: one failed attempt
        clock.advance(0.4)
        seen.append(revocations.revoked_by(SESSION, now=clock.now()))
    failures_within_ttl = revocations.refresh_failures
    proxy.start()
    other = Revocations(behind_proxy, clock=clock)
    other.revoke_session(SESSION.access_key_id)  # made at another instance
    clock.advance(1)
    assert (seen, failures_within_ttl) == ([None, None, None], 1)
    assert revocations.revoked_by(SESSION, now=clock.now()) is not None


def _expired(subject: str) -> Revocation:
    return Revocation("session", subject, T0 - timedelta(hours=3), T0 - timedelta(hours=2))


@pytest.mark.parametrize(
    ("later", "purged"),
    [
        pytest.param(timedelta(minutes=59), False, id="not-again-within-the-hour"),
        pytest.param(PURGE_INTERVAL, True, id="again-after-an-hour"),
    ],
)
def test_refreshes_purge_expired_rules_once_per_hour(later: timedelta, purged: bool) -> None:
    clock = FixedClock(T0)
    store = MemoryStore(clock=clock)
    revocations = Revocations(store, clock=clock)
    with store.transaction() as uow:
        uow.revocations.add(_expired("ASIAFIRSTFIRSTFIRST1"))
    revocations.revoked_by(SESSION, now=clock.now())  # the first refresh purges
    with store.transaction() as uow:
        uow.revocations.add(_expired("ASIASECONDSECONDSEC2"))
    clock.advance(later.total_seconds())
    revocations.revoked_by(SESSION, now=clock.now())
    with store.transaction() as uow:
        left = uow.revocations.purge(T0)
    assert left == (0 if purged else 1)
