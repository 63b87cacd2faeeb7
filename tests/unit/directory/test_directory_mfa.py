from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from directory_support import totp_code

from bridge.clock import FixedClock
from bridge.directory import Directory
from bridge.directory.mfa import CreatedMFADevice
from bridge.errors import (
    AlreadyExists,
    DeleteConflict,
    InvalidAuthenticationCode,
    InvalidInput,
    LimitExceeded,
    NotFound,
)

Snapshot = Callable[[], dict[str, Any]]


def step_of(clock: FixedClock) -> int:
    return int(clock.now().timestamp()) // 30


def enable(directory: Directory, clock: FixedClock, user: str | None = "alice") -> CreatedMFADevice:
    created = directory.mfa.create_virtual("phone")
    step = step_of(clock)
    seed = created.seed_base32
    serial = created.device.serial_number
    directory.mfa.enable(user, serial, totp_code(seed, step), totp_code(seed, step + 1))
    return created


def test_create_returns_seed_once_and_stores_it_sealed(directory: Directory, store):
    created = directory.mfa.create_virtual("phone", "/eng/")
    assert created.device.serial_number == "arn:aws:iam::123456789012:mfa/eng/phone"
    assert len(base64.b32decode(created.seed_base32)) == 20
    uri = urlsplit(created.otpauth_uri)
    assert uri.scheme == "otpauth"
    assert parse_qs(uri.query)["secret"] == [created.seed_base32]
    assert created.seed_base32 not in repr(created)
    with store.transaction() as uow:
        stored = uow.mfa_devices.get(created.device.serial_number)
    assert stored is not None
    assert created.seed_base32.encode() not in stored.seed_sealed
    assert base64.b32decode(created.seed_base32) not in stored.seed_sealed
    assert stored.user_id is None


def test_create_rules(directory: Directory):
    directory.mfa.create_virtual("phone")
    with pytest.raises(AlreadyExists):
        directory.mfa.create_virtual("phone")
    with pytest.raises(InvalidInput) as caught:
        directory.mfa.create_virtual("bad name")
    assert caught.value.field == "virtual_mfa_device_name"


@pytest.mark.parametrize(
    "case",
    [
        (0, 1, True),
        (-1, 0, True),
        (-2, -1, False),
        (1, 2, False),
        (0, 0, False),
        (1, 0, False),
    ],
    ids=["now-next", "previous-now", "too-old", "future", "same-step", "reversed"],
)
def test_enable_needs_two_consecutive_codes(
    directory: Directory, clock: FixedClock, snapshot: Snapshot, case: tuple[int, int, bool]
):
    first_offset, second_offset, ok = case
    user = directory.users.create("alice")
    created = directory.mfa.create_virtual("phone")
    seed, serial, step = created.seed_base32, created.device.serial_number, step_of(clock)
    code1 = totp_code(seed, step + first_offset)
    code2 = totp_code(seed, step + second_offset)
    if ok:
        enabled = directory.mfa.enable("alice", serial, code1, code2)
        assert (enabled.user_id, enabled.enabled_at) == (user.user_id, clock.now())
        assert enabled.last_counter == step + second_offset
        assert directory.mfa.list("alice") == [enabled]
    else:
        before = snapshot()
        with pytest.raises(InvalidAuthenticationCode):
            directory.mfa.enable("alice", serial, code1, code2)
        assert snapshot() == before


@pytest.mark.parametrize(
    ("code1", "code2", "field"),
    [("12345", "123456", "authentication_code1"), ("123456", "abcdef", "authentication_code2")],
    ids=["short-first", "letters-second"],
)
def test_enable_code_format(directory: Directory, code1: str, code2: str, field: str):
    directory.users.create("alice")
    serial = directory.mfa.create_virtual("phone").device.serial_number
    with pytest.raises(InvalidInput) as caught:
        directory.mfa.enable("alice", serial, code1, code2)
    assert caught.value.field == field


def test_enable_twice_or_for_missing_user(directory: Directory, clock: FixedClock):
    directory.users.create("alice")
    directory.users.create("bob")
    created = enable(directory, clock)
    seed, step = created.seed_base32, step_of(clock)
    with pytest.raises(AlreadyExists):
        directory.mfa.enable(
            "bob", created.device.serial_number, totp_code(seed, step), totp_code(seed, step + 1)
        )
    with pytest.raises(NotFound):
        directory.mfa.enable("ghost", "arn:aws:iam::123456789012:mfa/x", "123456", "123456")


def test_verify_window_and_no_reuse(directory: Directory, clock: FixedClock):
    directory.users.create("alice")
    created = enable(directory, clock)  # steps up to now+1 are used up by enabling
    seed, serial = created.seed_base32, created.device.serial_number
    with pytest.raises(InvalidAuthenticationCode, match="used already"):
        directory.mfa.verify(serial, totp_code(seed, step_of(clock) + 1))
    clock.advance(90)
    now = step_of(clock)
    directory.mfa.verify(serial, totp_code(seed, now - 1))
    with pytest.raises(InvalidAuthenticationCode, match="used already"):
        directory.mfa.verify(serial, totp_code(seed, now - 1))
    directory.mfa.verify(serial, totp_code(seed, now + 1))
    with pytest.raises(InvalidAuthenticationCode, match="used already"):
        directory.mfa.verify(serial, totp_code(seed, now))


@pytest.mark.parametrize("offset", [-2, 2], ids=["too-old", "too-new"])
def test_verify_outside_window(directory: Directory, clock: FixedClock, offset: int):
    directory.users.create("alice")
    created = enable(directory, clock)
    clock.advance(300)
    with pytest.raises(InvalidAuthenticationCode, match="not valid"):
        directory.mfa.verify(
            created.device.serial_number, totp_code(created.seed_base32, step_of(clock) + offset)
        )


def test_verify_refuses_device_not_enabled(directory: Directory, clock: FixedClock):
    created = directory.mfa.create_virtual("phone")
    with pytest.raises(InvalidAuthenticationCode, match="not enabled"):
        directory.mfa.verify(
            created.device.serial_number, totp_code(created.seed_base32, step_of(clock))
        )


def test_deactivate_then_delete(directory: Directory, clock: FixedClock, snapshot: Snapshot):
    directory.users.create("alice")
    serial = enable(directory, clock).device.serial_number
    before = snapshot()
    with pytest.raises(DeleteConflict, match="deactivate MFA device first"):
        directory.mfa.delete(serial)
    assert snapshot() == before
    directory.users.create("bob")
    with pytest.raises(NotFound):
        directory.mfa.deactivate("bob", serial)
    directory.mfa.deactivate("alice", serial)
    assert directory.mfa.list("alice") == []
    assert [d.serial_number for d in directory.mfa.list_virtual("Unassigned")] == [serial]
    directory.mfa.delete(serial)
    assert directory.mfa.list_virtual() == []


def test_root_mfa(directory: Directory, clock: FixedClock):
    directory.account.create("root password 1")
    serial = enable(directory, clock, user=None).device.serial_number
    assert directory.account.get().root_mfa_serial == serial
    assert [d.serial_number for d in directory.mfa.list(None)] == [serial]
    assert [d.serial_number for d in directory.mfa.list_virtual("Assigned")] == [serial]
    directory.mfa.deactivate(None, serial)
    assert directory.account.get().root_mfa_serial is None


def test_at_most_eight_devices_per_user(
    directory: Directory, clock: FixedClock, snapshot: Snapshot
):
    directory.users.create("alice")
    for i in range(9):
        created = directory.mfa.create_virtual(f"phone{i}")
        seed, serial, step = created.seed_base32, created.device.serial_number, step_of(clock)
        codes = (totp_code(seed, step), totp_code(seed, step + 1))
        if i < 8:
            directory.mfa.enable("alice", serial, *codes)
    before = snapshot()
    with pytest.raises(LimitExceeded, match="MFADevicesPerUser: 8"):
        directory.mfa.enable("alice", serial, *codes)
    assert snapshot() == before


def test_seed_never_stored_in_clear(directory: Directory, clock: FixedClock, snapshot: Snapshot):
    directory.users.create("alice")
    created = enable(directory, clock)
    assert created.seed_base32 not in repr(snapshot())
