"""Revocation by session and by issue time, seen by other instances within the cache ttl,
on every store backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bridge.clock import FixedClock
from bridge.credentials.revocation import MAX_SESSION_SECONDS, Revocations
from bridge.credentials.tokens import SessionClaims
from bridge.storage import migrate
from bridge.storage.interfaces import Store
from bridge.storage.memory import MemoryStore
from bridge.storage.sql import SqlStore
from tests.conftest import service_unavailable

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
ROLE_ID = "AROAABCDEFGHIJKLMNOPQ"
SESSION = SessionClaims(
    token_id="tokenidtokenidtokenidtoken",
    access_key_id="ASIAABCDEFGHIJKLMNOP",
    secret_access_key="s" * 40,
    account_id="123456789012",
    kind="assumed-role",
    subject_id=ROLE_ID,
    subject_name="deploy",
    subject_arn="arn:aws:iam::123456789012:role/deploy",
    session_name="alice",
    issued_at=T0,
    expires_at=T0 + timedelta(hours=1),
)
OTHER_SESSION = replace(SESSION, token_id="othertoken", access_key_id="ASIAOTHEROTHEROTHER2")

StoreFactory = Callable[[], Store]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[tuple[str, str]]:
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
        yield POSTGRES_URL, schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock
) -> Iterator[StoreFactory]:
    """Opens stores sharing one database, as separate instances would."""
    opened: list[Store] = []
    if request.param == "memory":
        shared = MemoryStore(clock=clock)
        opened.append(shared)
        yield lambda: shared
        return
    if request.param == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'bridge.db'}", None
        migrate.upgrade(url)
    else:
        url, schema = request.getfixturevalue("postgres_url")
        _empty_revocations(url, schema)

    def open_one() -> Store:
        opened.append(SqlStore(url, clock=clock, schema=schema))
        return opened[-1]

    yield open_one
    for store in opened:
        store.close()


def _empty_revocations(url: str, schema: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DELETE FROM "{schema}".revocations'))  # noqa: S608
    engine.dispose()


def instance(stores: StoreFactory, clock: FixedClock) -> Revocations:
    return Revocations(stores(), clock=clock)


@pytest.mark.parametrize(
    "session_id",
    [SESSION.access_key_id, SESSION.token_id],
    ids=["by-access-key-id", "by-token-id"],
)
def test_a_revoked_session_is_refused_and_others_are_not(
    stores: StoreFactory, clock: FixedClock, session_id: str
) -> None:
    revocations = instance(stores, clock)
    rule = revocations.revoke_session(session_id, expires_at=SESSION.expires_at)
    assert revocations.revoked_by(SESSION, now=T0) == rule
    assert revocations.revoked_by(OTHER_SESSION, now=T0) is None


@pytest.mark.parametrize(
    ("issued_at", "refused"),
    [
        (T0 - timedelta(hours=2), True),
        (T0 - timedelta(microseconds=1), True),
        (T0, False),
        (T0 + timedelta(seconds=1), False),
    ],
    ids=["long-before", "just-before", "at-the-cut", "after"],
)
def test_principal_sessions_issued_before_the_cut_are_refused(
    stores: StoreFactory, clock: FixedClock, issued_at: datetime, refused: bool
) -> None:
    revocations = instance(stores, clock)
    revocations.revoke_principal(ROLE_ID)
    session = replace(SESSION, issued_at=issued_at)
    other_role = replace(session, subject_id="AROAOTHEROTHEROTHER2")
    assert (revocations.revoked_by(session, now=T0) is not None) == refused
    assert revocations.revoked_by(other_role, now=T0) is None


def test_the_latest_cut_of_a_principal_wins(stores: StoreFactory, clock: FixedClock) -> None:
    revocations = instance(stores, clock)
    revocations.revoke_principal(ROLE_ID, issued_before=T0 + timedelta(minutes=5))
    revocations.revoke_principal(ROLE_ID, issued_before=T0 - timedelta(minutes=5))
    rule = revocations.revoked_by(replace(SESSION, issued_at=T0 + timedelta(minutes=1)), now=T0)
    assert rule is not None
    assert rule.not_before == T0 + timedelta(minutes=5)


def test_another_instance_sees_a_revocation_within_the_ttl(
    stores: StoreFactory, clock: FixedClock
) -> None:
    here, there = instance(stores, clock), instance(stores, clock)
    assert there.revoked_by(SESSION, now=T0) is None  # `there` caches the empty list
    here.revoke_session(SESSION.access_key_id)
    seen = [
        there.revoked_by(SESSION, now=T0 + timedelta(seconds=s)) is not None
        for s in (0, 0.5, 0.999, 1.0)
    ]
    assert seen == [False, False, False, True]
    assert here.revoked_by(SESSION, now=T0) is not None  # the revoking instance at once


def test_rules_expire_and_purge(stores: StoreFactory, clock: FixedClock) -> None:
    revocations = instance(stores, clock)
    revocations.revoke_session(SESSION.access_key_id, expires_at=SESSION.expires_at)
    revocations.revoke_principal(ROLE_ID)
    clock.set(SESSION.expires_at)
    assert revocations.purge() == 1
    clock.set(T0 + timedelta(seconds=MAX_SESSION_SECONDS))
    assert revocations.purge() == 1
    assert revocations.revoked_by(replace(SESSION, issued_at=T0 - timedelta(1)), now=T0) is None
