from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bridge.clock import FixedClock
from bridge.directory import Directory
from bridge.errors import InvalidInput, LimitExceeded, NotFound
from bridge.storage.interfaces import AccessKey

Snapshot = Callable[[], dict[str, Any]]


def test_create_returns_secret_once_and_stores_it_sealed(directory: Directory, store):
    directory.users.create("alice")
    created = directory.keys.create("alice")
    assert re.fullmatch(r"AKIA[A-Z2-7]{16}", created.key.access_key_id)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", created.secret_access_key)
    assert created.secret_access_key not in repr(created)
    with store.transaction() as uow:
        stored = uow.access_keys.get(created.key.access_key_id)
    assert stored is not None
    assert stored.status == "Active"
    assert created.secret_access_key.encode() not in stored.secret_sealed
    assert created.secret_access_key not in repr(stored)


def test_at_most_two_keys(directory: Directory, snapshot: Snapshot):
    directory.users.create("alice")
    directory.keys.create("alice")
    directory.keys.create("alice")
    before = snapshot()
    with pytest.raises(LimitExceeded, match="AccessKeysPerUser: 2"):
        directory.keys.create("alice")
    assert snapshot() == before


def test_list_update_delete(directory: Directory):
    directory.users.create("alice")
    first = directory.keys.create("alice").key
    second = directory.keys.create("alice").key
    assert [k.access_key_id for k in directory.keys.list("alice")] == [
        first.access_key_id,
        second.access_key_id,
    ]
    directory.keys.update_status("alice", first.access_key_id, "Inactive")
    assert directory.keys.list("alice")[0].status == "Inactive"
    directory.keys.delete("alice", first.access_key_id)
    assert [k.access_key_id for k in directory.keys.list("alice")] == [second.access_key_id]


def test_keys_of_another_user_are_not_found(directory: Directory, snapshot: Snapshot):
    directory.users.create("alice")
    directory.users.create("bob")
    key = directory.keys.create("alice").key
    before = snapshot()
    with pytest.raises(NotFound, match=key.access_key_id):
        directory.keys.delete("bob", key.access_key_id)
    with pytest.raises(NotFound):
        directory.keys.update_status("bob", key.access_key_id, "Inactive")
    assert snapshot() == before


def test_update_status_rejects_unknown_status(directory: Directory):
    directory.users.create("alice")
    key = directory.keys.create("alice").key
    with pytest.raises(InvalidInput) as caught:
        directory.keys.update_status("alice", key.access_key_id, "Paused")  # type: ignore[arg-type]
    assert caught.value.field == "status"


def test_record_use_and_last_used(directory: Directory, clock: FixedClock):
    directory.users.create("alice")
    key = directory.keys.create("alice").key
    owner, before = directory.keys.last_used(key.access_key_id)
    assert (owner, before.last_used_at) == ("alice", None)
    clock.advance(60)
    directory.keys.record_use(key.access_key_id, "s3", "eu-west-1")
    _, used = directory.keys.last_used(key.access_key_id)
    assert (used.last_used_at, used.last_used_service, used.last_used_region) == (
        clock.now(),
        "s3",
        "eu-west-1",
    )
    with pytest.raises(NotFound):
        directory.keys.record_use("AKIAUNKNOWN", "s3", "eu-west-1")


def test_authenticate_active_key_opens_secret(directory: Directory):
    user = directory.users.create("alice")
    created = directory.keys.create("alice")
    found = directory.keys.authenticate(created.key.access_key_id)
    assert found is not None
    assert found.secret == created.secret_access_key.encode()
    assert found.user == user
    assert created.secret_access_key not in repr(found)


def _inactive(d: Directory, key: AccessKey) -> None:
    d.keys.update_status("alice", key.access_key_id, "Inactive")


def _deleted(d: Directory, key: AccessKey) -> None:
    d.keys.delete("alice", key.access_key_id)


@pytest.mark.parametrize(
    ("change", "key_id"),
    [(_inactive, None), (_deleted, None), (None, "AKIAAAAAAAAAAAAAAAAA")],
    ids=["inactive", "deleted", "unknown"],
)
def test_authenticate_refuses(directory: Directory, change, key_id: str | None):
    directory.users.create("alice")
    key = directory.keys.create("alice").key
    if change is not None:
        change(directory, key)
    assert directory.keys.authenticate(key_id or key.access_key_id) is None


@pytest.mark.parametrize("with_account", [True, False], ids=["account", "no-account"])
def test_authenticate_root_key_needs_the_account(
    directory: Directory, store, sealer, clock: FixedClock, with_account: bool
):
    if with_account:
        directory.account.create("root password 1")
    key_id = "AKIAROOTROOTROOTROOT"
    sealed = sealer.seal(b"root-secret", context=f"access-key:{key_id}")
    with store.transaction() as uow:
        uow.access_keys.add(AccessKey(key_id, None, sealed, "Active", clock.now()))
    found = directory.keys.authenticate(key_id)
    if with_account:
        assert found is not None
        assert (found.user, found.secret) == (None, b"root-secret")
    else:
        assert found is None


def test_sealed_secret_is_bound_to_its_key_id(directory: Directory, store, sealer):
    directory.users.create("alice")
    first = directory.keys.create("alice").key
    second = directory.keys.create("alice").key
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        sealer.open(first.secret_sealed, context=f"access-key:{second.access_key_id}")


def test_secret_never_stored_in_clear(directory: Directory, snapshot: Snapshot):
    directory.users.create("alice")
    created = directory.keys.create("alice")
    directory.keys.record_use(created.key.access_key_id, "s3", "eu-west-1")
    assert created.secret_access_key not in repr(snapshot())
