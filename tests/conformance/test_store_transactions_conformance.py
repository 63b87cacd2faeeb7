"""Transactions are all-or-nothing and concurrent writers stay consistent, on every `Store`."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from conformance_records import T0, group, policy, user

from bridge.errors import AlreadyExists, NotFound
from bridge.storage.interfaces import (
    AccessKey,
    Account,
    InlinePolicy,
    KeyRecord,
    LoginProfile,
    PolicyVersion,
    Store,
)

# --- transactions -----------------------------------------------------------------------


class BoomError(Exception):
    pass


def _raise(_uow: Any) -> None:
    raise BoomError("user code")


def _write_everywhere(uow: Any) -> None:
    uow.account.put(Account("111122223333", "h", T0))
    uow.users.add(user("AIDA1", "alice"))
    uow.groups.add(group("AGPA1", "devs"))
    uow.memberships.add("AGPA1", "AIDA1")
    uow.policies.add(policy("ANPA1", "p"))
    uow.policy_versions.add(PolicyVersion("ANPA1", "v1", "{}", T0))
    uow.attachments.attach("AIDA1", "ANPA1")
    uow.inline_policies.put(InlinePolicy("AIDA1", "i", "{}"))
    uow.access_keys.add(AccessKey("AKIA1", "AIDA1", b"s", "Active", T0))
    uow.login_profiles.add(LoginProfile("AIDA1", "hash", T0))
    uow.key_ring.add(KeyRecord("k1", "data", b"key", T0))


def _nothing_left(store: Store) -> None:
    with store.transaction() as uow:
        assert uow.account.get() is None
        assert (uow.users.list(), uow.groups.list(), uow.policies.list()) == ([], [], [])
        assert uow.memberships.groups_of("AIDA1") == []
        assert uow.attachments.policies_of("AIDA1") == []
        assert uow.inline_policies.list("AIDA1") == []
        assert uow.access_keys.get("AKIA1") is None
        assert uow.login_profiles.get("AIDA1") is None
        assert uow.key_ring.list("data") == []


@pytest.mark.parametrize(
    "fail",
    [
        _raise,
        lambda uow: uow.users.add(user("AIDA2", "ALICE")),
        lambda uow: uow.groups.remove("AGPA9"),
    ],
    ids=["raised-by-caller", "already-exists", "not-found"],
)
def test_a_failed_transaction_leaves_nothing(store: Store, fail: Any) -> None:
    with pytest.raises((BoomError, AlreadyExists, NotFound)):
        _write_then_fail(store, fail)
    _nothing_left(store)


def _write_then_fail(store: Store, fail: Any, write: Any = _write_everywhere) -> None:
    with store.transaction() as uow:
        write(uow)
        fail(uow)


def _rename_and_add(uow: Any) -> None:
    uow.users.update(replace(user("AIDA1", "alice"), name="renamed"))
    uow.users.add(user("AIDA2", "bob"))


def test_a_failed_transaction_keeps_what_was_committed_before(store: Store) -> None:
    with store.transaction() as uow:
        uow.users.add(user("AIDA1", "alice"))
    with pytest.raises(BoomError):
        _write_then_fail(store, _raise, write=_rename_and_add)
    with store.transaction() as uow:
        assert [u.name for u in uow.users.list()] == ["alice"]


def test_a_commit_is_seen_by_another_store_on_the_same_database(store_factory: Any) -> None:
    first, second = store_factory(), store_factory()
    with first.transaction() as uow:
        uow.users.add(user("AIDA1", "alice"))
    with second.transaction() as uow:
        assert uow.users.by_name("ALICE") == user("AIDA1", "alice")


def test_concurrent_adds_of_one_name_let_exactly_one_win(store_factory: Any) -> None:
    """The second writer may pass the name check before the first commits; the unique
    constraint must still stop it, as `AlreadyExists`."""
    first, second = store_factory(), store_factory()
    outcome: list[BaseException | None] = []

    def add_from_second() -> None:
        try:
            with second.transaction() as uow:
                uow.users.add(user("AIDA2", "ALICE"))
        except AlreadyExists as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    with first.transaction() as uow:
        uow.users.add(user("AIDA1", "alice"))
        racer = threading.Thread(target=add_from_second)
        racer.start()
        time.sleep(0.3)
    racer.join(timeout=30)
    assert [type(o) for o in outcome] == [AlreadyExists]
    with first.transaction() as uow:
        assert [u.user_id for u in uow.users.list()] == ["AIDA1"]
