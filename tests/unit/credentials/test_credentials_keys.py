"""The key ring: sealing, context binding, rotation across instances, master key handling."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.keys import (
    KeyRing,
    decode_master_key,
    load_master_key,
    write_master_key_file,
)
from bridge.errors import KeyRingError
from bridge.storage.memory import MemoryStore

MASTER = bytes(range(32))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(clock=FixedClock())


def ring(store: MemoryStore, master: bytes = MASTER) -> KeyRing:
    return KeyRing(store, master, clock=FixedClock(), rng=SystemRandom())


def test_sealed_value_opens_with_the_same_context(store: MemoryStore) -> None:
    key_ring = ring(store)
    key_ring.ensure("data")
    sealed = key_ring.seal(b"wJalrXUtnFEMI/K7MDENG", context="access-key:AKIA1")
    assert b"wJalrXUtnFEMI" not in sealed
    assert key_ring.open(sealed, context="access-key:AKIA1") == b"wJalrXUtnFEMI/K7MDENG"


def test_sealed_value_moved_to_another_record_does_not_open(store: MemoryStore) -> None:
    key_ring = ring(store)
    key_ring.ensure("data")
    sealed = key_ring.seal(b"secret", context="access-key:AKIA1")
    with pytest.raises(KeyRingError, match="does not open for context `access-key:AKIA2`"):
        key_ring.open(sealed, context="access-key:AKIA2")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),
        lambda b: b[:10],
        lambda b: b"\x02" + b[1:],
    ],
    ids=["flipped-bit", "truncated", "unknown-version"],
)
def test_tampered_envelopes_are_refused(store: MemoryStore, mangle: object) -> None:
    key_ring = ring(store)
    key_ring.ensure("data")
    sealed = key_ring.seal(b"secret", context="c")
    with pytest.raises(KeyRingError):
        key_ring.open(mangle(sealed), context="c")  # type: ignore[operator]


def test_rotation_keeps_old_values_open_and_seals_with_the_new_key(store: MemoryStore) -> None:
    key_ring = ring(store)
    key_ring.ensure("token")
    old = key_ring.seal(b"before", context="c", purpose="token")
    new_id = key_ring.rotate("token")
    new = key_ring.seal(b"after", context="c", purpose="token")
    assert key_ring.open(old, context="c") == b"before"
    assert new_id.encode() in new and new_id.encode() not in old
    statuses = sorted(r.status for r in key_ring.records() if r.purpose == "token")
    assert statuses == ["active", "retired"]


def test_rotation_at_one_instance_reaches_another(store: MemoryStore) -> None:
    first, second = ring(store), ring(store)
    first.ensure("token")
    second.reload()
    first.rotate("token")
    sealed = first.seal(b"x", context="c", purpose="token")
    assert second.open(sealed, context="c") == b"x"


def test_wrong_master_key_is_reported(store: MemoryStore) -> None:
    ring(store).ensure("data")
    with pytest.raises(KeyRingError, match="does not open with this master key"):
        ring(store, master=bytes(32)).reload()


def test_unknown_purpose_is_refused(store: MemoryStore) -> None:
    with pytest.raises(KeyRingError, match="unknown key purpose `mail`"):
        ring(store).rotate("mail")


def test_master_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    write_master_key_file(path, MASTER)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert load_master_key(path, environ={}) == MASTER


def test_master_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    write_master_key_file(path, MASTER)
    os.chmod(path, 0o644)
    with pytest.raises(KeyRingError, match="readable by others"):
        load_master_key(path, environ={})


def test_master_key_from_environment_wins(tmp_path: Path) -> None:
    env = {"BRIDGE_MASTER_KEY": base64.b64encode(bytes(32)).decode()}
    assert load_master_key(tmp_path / "absent", environ=env) == bytes(32)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"short").decode(), "must be 32 bytes"),
    ],
    ids=["not-base64", "wrong-length"],
)
def test_bad_master_keys_are_named(text: str, message: str) -> None:
    with pytest.raises(KeyRingError, match=message):
        decode_master_key(text, "BRIDGE_MASTER_KEY")


def test_missing_master_key_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="no master key"):
        load_master_key(tmp_path / "master.key", environ={})


def test_unknown_key_ids_reload_at_most_once_a_second(store: MemoryStore) -> None:
    clock = FixedClock()
    first = KeyRing(store, MASTER, clock=clock, rng=SystemRandom())
    second = KeyRing(store, MASTER, clock=clock, rng=SystemRandom())
    first.ensure("token")
    forged = b"\x01\x05nokey" + bytes(40)
    with pytest.raises(KeyRingError, match="unknown key id"):
        second.open(forged, context="c")  # this one re-reads the key records
    first.rotate("token")
    sealed = first.seal(b"x", context="c", purpose="token")
    with pytest.raises(KeyRingError, match="unknown key id"):
        second.open(sealed, context="c")  # within the second: no second read
    clock.advance(1.5)
    assert second.open(sealed, context="c") == b"x"
