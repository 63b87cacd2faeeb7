from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from directory_support import ACCOUNT, CHEAP_HASHING, AesGcmSealer, SeededRandom

from bridge.clock import FixedClock
from bridge.directory import Directory, HashingConfig, PasswordPolicy
from bridge.errors import (
    AlreadyExists,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PasswordPolicyViolation,
)

Snapshot = Callable[[], dict[str, Any]]
STRICT = PasswordPolicy(minimum_length=12, require_numbers=True, require_symbols=True)


@pytest.fixture
def account(directory: Directory) -> Directory:
    directory.account.create("root password 1")
    directory.users.create("alice")
    return directory


def test_create_and_verify_login(account: Directory, clock: FixedClock):
    profile = account.login_profiles.create(
        "alice", "a fine password", password_reset_required=True
    )
    assert profile.password_hash.startswith("$argon2id$")
    assert "a fine password" not in profile.password_hash
    result = account.login_profiles.verify_login("alice", "a fine password")
    assert (result.user.name, result.password_reset_required, result.password_expired) == (
        "alice",
        True,
        False,
    )
    assert account.users.get("alice").password_last_used == clock.now()


@pytest.mark.parametrize(
    ("user", "password"),
    [("alice", "wrong password"), ("ghost", "a fine password"), ("bob", "a fine password")],
    ids=["wrong-password", "unknown-user", "user-without-profile"],
)
def test_verify_login_fails_alike(account: Directory, user: str, password: str):
    account.users.create("bob")
    account.login_profiles.create("alice", "a fine password")
    with pytest.raises(AuthenticationFailed) as caught:
        account.login_profiles.verify_login(user, password)
    assert caught.value.reason == "invalid_credentials"
    assert caught.value.message == "the user name or password is incorrect"


def test_password_policy_applies(account: Directory, snapshot: Snapshot):
    account.account.update_password_policy(STRICT)
    before = snapshot()
    with pytest.raises(PasswordPolicyViolation, match=r"at least 12.*symbol"):
        account.login_profiles.create("alice", "password")
    assert snapshot() == before
    account.login_profiles.create("alice", "password-1234")
    with pytest.raises(PasswordPolicyViolation):
        account.login_profiles.update("alice", password="short")


def test_create_twice_and_missing(account: Directory):
    account.login_profiles.create("alice", "a fine password")
    with pytest.raises(AlreadyExists, match="Login Profile for user `alice` already exists"):
        account.login_profiles.create("alice", "a fine password")
    account.users.create("bob")
    with pytest.raises(NotFound, match="Login Profile for User `bob` cannot be found"):
        account.login_profiles.get("bob")


def test_update_and_change_password(account: Directory, clock: FixedClock):
    account.login_profiles.create("alice", "first password")
    clock.advance(10)
    updated = account.login_profiles.update(
        "alice", password="second password", password_reset_required=True
    )
    assert (updated.password_changed_at, updated.password_reset_required) == (clock.now(), True)
    with pytest.raises(AuthenticationFailed):
        account.login_profiles.change_password("alice", "first password", "third password")
    account.login_profiles.change_password("alice", "second password", "third password")
    result = account.login_profiles.verify_login("alice", "third password")
    assert result.password_reset_required is False


@pytest.mark.parametrize(
    ("hard_expiry", "days", "outcome"),
    [(False, 29, "fresh"), (False, 30, "expired"), (True, 30, "refused")],
    ids=["before-age", "soft-expiry", "hard-expiry"],
)
def test_password_age(account: Directory, clock: FixedClock, hard_expiry, days, outcome):
    account.account.update_password_policy(
        PasswordPolicy(max_password_age=30, hard_expiry=hard_expiry)
    )
    account.login_profiles.create("alice", "a fine password")
    clock.advance(days * 86400)
    if outcome == "refused":
        with pytest.raises(AuthenticationFailed) as caught:
            account.login_profiles.verify_login("alice", "a fine password")
        assert caught.value.reason == "password_expired"
    else:
        result = account.login_profiles.verify_login("alice", "a fine password")
        assert result.password_expired is (outcome == "expired")


def test_login_rehashes_with_new_parameters(account: Directory, store, clock, sealer):
    old_hash = account.login_profiles.create("alice", "a fine password").password_hash
    stronger = Directory(
        store,
        account_id=ACCOUNT,
        sealer=sealer,
        clock=clock,
        rng=SeededRandom(9),
        hasher=HashingConfig(time_cost=2, memory_cost_kib=16, parallelism=1),
    )
    stronger.login_profiles.verify_login("alice", "a fine password")
    new_hash = stronger.login_profiles.get("alice").password_hash
    assert new_hash != old_hash
    assert "t=2" in new_hash
    stronger.login_profiles.verify_login("alice", "a fine password")


def test_delete_profile(account: Directory):
    account.login_profiles.create("alice", "a fine password")
    account.login_profiles.delete("alice")
    with pytest.raises(NotFound):
        account.login_profiles.delete("alice")


def test_account_create_once_and_root_password(directory: Directory):
    created = directory.account.create("root password 1")
    assert created.account_id == ACCOUNT
    with pytest.raises(AlreadyExists):
        directory.account.create("root password 2")
    assert directory.account.verify_root("root password 1").account_id == ACCOUNT
    with pytest.raises(AuthenticationFailed):
        directory.account.verify_root("nope")
    directory.account.set_root_password("root password 2")
    directory.account.verify_root("root password 2")


def test_root_password_is_rehashed_with_new_parameters(directory: Directory, store, clock, sealer):
    old_hash = directory.account.create("root password 1").root_password_hash
    stronger = Directory(
        store,
        account_id=ACCOUNT,
        sealer=sealer,
        clock=clock,
        rng=SeededRandom(9),
        hasher=HashingConfig(time_cost=2, memory_cost_kib=16, parallelism=1),
    )
    stronger.account.verify_root("root password 1")
    assert stronger.account.get().root_password_hash != old_hash
    assert "t=2" in stronger.account.get().root_password_hash


def test_account_root_password_follows_policy(directory: Directory):
    with pytest.raises(PasswordPolicyViolation):
        directory.account.create("short")
    with pytest.raises(NotFound, match="bridge init"):
        directory.account.get()


def test_password_policy_get_update_delete(account: Directory):
    assert account.account.password_policy() == PasswordPolicy()
    account.account.update_password_policy(STRICT)
    assert account.account.password_policy() == STRICT
    with pytest.raises(InvalidInput) as caught:
        account.account.update_password_policy(PasswordPolicy(minimum_length=4))
    assert caught.value.field == "minimum_length"
    assert account.account.password_policy() == STRICT
    account.account.delete_password_policy()
    assert account.account.password_policy() == PasswordPolicy()
    with pytest.raises(NotFound):
        account.account.delete_password_policy()


def test_directory_rejects_bad_account_id(store, clock):
    with pytest.raises(InvalidInput) as caught:
        Directory(
            store,
            account_id="1234",
            sealer=AesGcmSealer(bytes(32)),
            clock=clock,
            rng=SeededRandom(),
            hasher=CHEAP_HASHING,
        )
    assert caught.value.field == "account_id"
