"""Revocation rules of temporary credentials, the same on every `Store` (see conftest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from conformance_records import T0, at

from bridge.storage.interfaces import Revocation, Store


def _session(subject: str, created: float, expires: float) -> Revocation:
    return Revocation("session", subject, at(created), at(expires))


def _principal(subject: str, created: float, expires: float) -> Revocation:
    return Revocation("principal", subject, at(created), at(expires), not_before=at(created))


RULES = [
    _principal("AROAROLE", 30, 300),
    _session("ASIAEXPIRED", 1, 10),
    _session("ASIALIVE", 20, 200),
    _principal("AIDAUSER", 5, 50),
]


def _add(store: Store, *rules: Revocation) -> None:
    with store.transaction() as uow:
        for rule in rules:
            uow.revocations.add(rule)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(0), ["AIDAUSER", "ASIALIVE", "AROAROLE", "ASIAEXPIRED"]),
        (at(10), ["AIDAUSER", "ASIALIVE", "AROAROLE"]),
        (at(60), ["ASIALIVE", "AROAROLE"]),
        (at(300), []),
    ],
    ids=["all-live", "expiry-is-exclusive", "one-expired-each", "all-expired"],
)
def test_active_lists_unexpired_rules_oldest_first(
    store: Store, now: datetime, expected: list[str]
) -> None:
    _add(store, *RULES)
    with store.transaction() as uow:
        active = uow.revocations.active(now)
    ordered = sorted((r for r in RULES if r.subject in expected), key=lambda r: r.created_at)
    assert [r.subject for r in active] == [r.subject for r in ordered]
    assert active == ordered


def test_rules_round_trip_with_and_without_not_before(store: Store) -> None:
    rules = (_session("ASIA1", 0, 100), _principal("AROA1", 0.5, 100))
    _add(store, *rules)
    with store.transaction() as uow:
        found = uow.revocations.active(T0)
    assert found == list(rules)
    assert [r.not_before for r in found] == [None, at(0.5)]


def test_equal_rules_may_be_recorded_twice(store: Store) -> None:
    rule = _principal("AROA1", 0, 100)
    _add(store, rule)
    _add(store, rule)
    with store.transaction() as uow:
        assert uow.revocations.active(T0) == [rule, rule]


def test_purge_deletes_expired_rules_only(store: Store) -> None:
    _add(store, *RULES)
    with store.transaction() as uow:
        purged = uow.revocations.purge(at(50))
    with store.transaction() as uow:
        left = uow.revocations.active(T0)
        again = uow.revocations.purge(at(50))
    assert (purged, again) == (2, 0)
    assert {r.subject for r in left} == {"ASIALIVE", "AROAROLE"}


def test_a_failed_transaction_leaves_no_rule(store: Store) -> None:
    def add_then_fail() -> None:
        with store.transaction() as uow:
            uow.revocations.add(_session("ASIA1", 0, 100))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        add_then_fail()
    with store.transaction() as uow:
        assert uow.revocations.active(T0) == []


def test_a_rule_written_by_one_store_is_seen_by_another(
    store_factory: Callable[[], Store],
) -> None:
    first, second = store_factory(), store_factory()
    _add(first, _session("ASIA1", 0, 100))
    with second.transaction() as uow:
        assert [r.subject for r in uow.revocations.active(T0)] == ["ASIA1"]
