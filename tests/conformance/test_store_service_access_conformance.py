"""Service last accessed records, the same on every `Store` (see conftest)."""

from __future__ import annotations

import pytest
from conformance_records import at

from bridge.storage.interfaces import Store
from bridge.storage.service_access import ServiceAccess

USER = "AIDAEXAMPLEUSER00001"
ROLE = "AROAEXAMPLEROLE00001"
OTHER = "AROAEXAMPLEROLE00002"
ROLE_ARN = "arn:aws:iam::123456789012:role/reader"


def _access(
    entity: str, namespace: str, seconds: float, region: str | None = "eu-west-1"
) -> ServiceAccess:
    return ServiceAccess(entity, namespace, f"{ROLE_ARN}-{entity}", at(seconds), region)


def _record(store: Store, *accesses: ServiceAccess) -> None:
    for access in accesses:
        with store.transaction() as uow:
            uow.service_access.record(access)


def _listed(store: Store, *entities: str) -> list[ServiceAccess]:
    with store.transaction() as uow:
        return uow.service_access.list_for(entities)


def test_a_new_access_is_listed_as_recorded(store: Store) -> None:
    access = _access(ROLE, "items", 10, region=None)
    _record(store, access)
    assert _listed(store, ROLE) == [access]


@pytest.mark.parametrize(
    ("seconds", "kept"),
    [
        pytest.param([10, 20], 20, id="later-replaces"),
        pytest.param([20, 10], 20, id="earlier-ignored"),
        pytest.param([20, 20], 20, id="same-time-kept"),
    ],
)
def test_one_record_per_entity_and_namespace_keeps_the_latest(
    store: Store, seconds: list[int], kept: int
) -> None:
    _record(store, *(_access(ROLE, "items", s, region=f"r{s}") for s in seconds))
    assert _listed(store, ROLE) == [_access(ROLE, "items", kept, region=f"r{kept}")]


def test_lists_only_the_entities_asked_ordered_by_entity_then_namespace(store: Store) -> None:
    _record(
        store,
        _access(ROLE, "s3", 1),
        _access(USER, "items", 2),
        _access(ROLE, "items", 3),
        _access(OTHER, "items", 4),
    )
    found = [(a.entity_id, a.namespace) for a in _listed(store, USER, ROLE)]
    assert found == [(USER, "items"), (ROLE, "items"), (ROLE, "s3")]
    assert _listed(store) == []


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    def record_then_fail() -> None:
        with store.transaction() as uow:
            uow.service_access.record(_access(ROLE, "items", 1))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        record_then_fail()
    assert _listed(store, ROLE) == []
