"""Audit events, the same on every `Store` (see conftest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TypedDict

import pytest
from conformance_records import at

from bridge.storage.audit_records import AuditRecord
from bridge.storage.interfaces import Store

ALICE = "arn:aws:sts::123456789012:assumed-role/Dev/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/Ops/bob"


def _event(request_id: str, seconds: float, name: str, principal: str | None) -> AuditRecord:
    return AuditRecord(at(seconds), name, "success", request_id, principal=principal)


EVENTS = [
    _event("r1", 10, "AssumeRoleWithSAML", ALICE),
    _event("r2", 20, "AssumeRoleWithSAML", BOB),
    _event("r3", 30, "GetCallerIdentity", ALICE),
    _event("r4", 40, "AssumeRoleWithWebIdentity", None),
    _event("r5", 50, "AssumeRoleWithSAML", ALICE),
]


class Filters(TypedDict, total=False):
    since: datetime
    until: datetime
    principal: str
    event: str
    limit: int


def _add(store: Store, *records: AuditRecord) -> None:
    with store.transaction() as uow:
        for record in records:
            uow.audit.add(record)


def _ids(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    principal: str | None = None,
    event: str | None = None,
    limit: int = 100,
) -> list[str]:
    with store.transaction() as uow:
        found = uow.audit.query(
            since=since, until=until, principal=principal, event=event, limit=limit
        )
    return [r.request_id for r in found]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["r5", "r4", "r3", "r2", "r1"]),
        ({"since": at(30)}, ["r5", "r4", "r3"]),
        ({"until": at(30)}, ["r2", "r1"]),
        ({"since": at(20), "until": at(50)}, ["r4", "r3", "r2"]),
        ({"principal": ALICE}, ["r5", "r3", "r1"]),
        ({"event": "AssumeRoleWithSAML"}, ["r5", "r2", "r1"]),
        ({"principal": ALICE, "event": "AssumeRoleWithSAML", "since": at(11)}, ["r5"]),
        ({"principal": "arn:aws:iam::123456789012:user/nobody"}, []),
        ({"limit": 2}, ["r5", "r4"]),
        ({"limit": 0}, []),
    ],
    ids=[
        "all-newest-first",
        "since-inclusive",
        "until-exclusive",
        "window",
        "principal",
        "event-name",
        "filters-combine",
        "unknown-principal",
        "limit",
        "limit-zero",
    ],
)
def test_query_filters_and_orders_newest_first(
    store: Store, filters: Filters, expected: list[str]
) -> None:
    _add(store, EVENTS[2], EVENTS[0], EVENTS[4], EVENTS[1], EVENTS[3])
    assert _ids(store, **filters) == expected


def test_events_at_the_same_time_come_last_recorded_first(store: Store) -> None:
    _add(store, _event("first", 5, "A", None), _event("second", 5, "A", None))
    _add(store, _event("third", 5, "A", None))
    assert _ids(store) == ["third", "second", "first"]


def test_every_field_round_trips(store: Store) -> None:
    full = AuditRecord(
        time=at(0.5),
        event_name="AssumeRoleWithSAML",
        result="failure",
        request_id="req-1",
        principal=ALICE,
        source_ip="192.0.2.7",
        user_agent="aws-cli/2.15 Python/3.11",
        error_code="AccessDenied",
        error_message="role `Dev` does not trust `alice`",
        parameters='{"RoleArn": "arn:aws:iam::123456789012:role/Dev", "SAMLAssertion": "***"}',
        details='{"matched": ["Dev"]}',
    )
    bare = replace(_event("req-2", 1, "GetCallerIdentity", None), parameters="{}")
    _add(store, full, bare)
    with store.transaction() as uow:
        found = uow.audit.query(since=None, until=None, principal=None, event=None, limit=10)
    assert found == [bare, full]


@pytest.mark.parametrize(
    ("batches", "expected"),
    [
        pytest.param([[]], [], id="empty-batch"),
        pytest.param([EVENTS[:3]], ["r3", "r2", "r1"], id="one-batch"),
        pytest.param([EVENTS[:2], EVENTS[2:]], ["r5", "r4", "r3", "r2", "r1"], id="two-batches"),
        pytest.param(
            [[_event(f"same-{n}", 5, "A", None) for n in range(3)]],
            ["same-2", "same-1", "same-0"],
            id="same-time-last-in-batch-first",
        ),
    ],
)
def test_add_many_appends_in_the_order_given(
    store: Store, batches: list[list[AuditRecord]], expected: list[str]
) -> None:
    for batch in batches:
        with store.transaction() as uow:
            uow.audit.add_many(batch)
    assert _ids(store) == expected


def test_add_many_in_a_failed_transaction_leaves_no_event(store: Store) -> None:
    def add_then_fail() -> None:
        with store.transaction() as uow:
            uow.audit.add_many(EVENTS)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    assert _ids(store) == []


def test_equal_events_may_be_recorded_twice(store: Store) -> None:
    _add(store, EVENTS[0])
    _add(store, EVENTS[0])
    assert _ids(store) == ["r1", "r1"]


def test_a_failed_transaction_leaves_no_event(store: Store) -> None:
    def add_then_fail() -> None:
        with store.transaction() as uow:
            uow.audit.add(EVENTS[0])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    assert _ids(store) == []


def test_an_event_written_by_one_store_is_seen_by_another(
    store_factory: Callable[[], Store],
) -> None:
    first, second = store_factory(), store_factory()
    _add(first, EVENTS[1])
    assert _ids(second) == ["r2"]


def test_purge_deletes_only_events_older_than_the_moment(store: Store) -> None:
    _add(store, *EVENTS)
    with store.transaction() as uow:
        assert uow.audit.purge(at(30)) == 2  # r1 and r2; r3 is at the moment itself
    assert sorted(_ids(store)) == ["r3", "r4", "r5"]
    with store.transaction() as uow:
        assert uow.audit.purge(at(30)) == 0
