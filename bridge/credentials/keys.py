"""The key ring: data keys sealed at rest with a master key, with rotation.

Layout of the trust:
- The master key (32 random bytes) lives outside the database: a 0600 file in the
  bridge home, or `BRIDGE_MASTER_KEY` (base64). It only wraps data keys.
- Data keys (32 bytes each, per purpose: "data" for secrets at rest, "token" for
  session tokens) are stored in the database wrapped with AES-256-GCM under the
  master key, the key id and purpose bound as associated data, so one instance's
  rotation reaches every instance sharing the database.
- `seal()` encrypts with the newest active key of a purpose; `open()` finds the key by
  the id in the envelope, so rotation never breaks what was sealed before.

Envelope: version byte 0x01, key-id length byte, key id (ASCII), 12-byte nonce,
AES-GCM ciphertext+tag. The caller's `context` is the associated data, so a sealed
value moved to another record (another access key, another MFA device) fails to open.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.clock import Clock, Random, random_string
from bridge.errors import KeyRingError
from bridge.storage.interfaces import KeyRecord, Store

ENVELOPE_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0234567"
PURPOSES = ("data", "token")
RELOAD_INTERVAL = timedelta(seconds=1)


def generate_master_key(rng: Random) -> bytes:
    return rng.token_bytes(KEY_BYTES)


def encode_master_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_master_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyRingError(f"{source}: the master key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyRingError(f"{source}: the master key must be {KEY_BYTES} bytes, got {len(key)}")
    return key


def write_master_key_file(path: Path, key: bytes) -> None:
    """Create the key file with mode 0600 from the start (never world-readable, even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(encode_master_key(key) + "\n")


def load_master_key(path: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """`BRIDGE_MASTER_KEY` when set, else the key file, which must not be group/world readable."""
    env = os.environ if environ is None else environ
    if env.get("BRIDGE_MASTER_KEY"):
        return decode_master_key(env["BRIDGE_MASTER_KEY"], "BRIDGE_MASTER_KEY")
    if not path.exists():
        raise KeyRingError(f"no master key: `{path}` is missing and BRIDGE_MASTER_KEY is not set")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyRingError(f"`{path}` is readable by others (mode {mode:o}); chmod 600 it")
    return decode_master_key(path.read_text(encoding="ascii"), str(path))


class KeyRing:
    """Seals and opens secrets; implements the directory's `Sealer` protocol."""

    def __init__(self, store: Store, master_key: bytes, *, clock: Clock, rng: Random) -> None:
        self._store = store
        self._master = AESGCM(master_key)
        self._clock = clock
        self._rng = rng
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[KeyRecord, AESGCM]] = {}
        self._active: dict[str, str] = {}
        self._last_reload: datetime | None = None

    def ensure(self, purpose: str) -> None:
        """Create the first key of `purpose` if there is none (used by `bridge init`)."""
        self.reload()
        if purpose not in self._active:
            self.rotate(purpose)

    def rotate(self, purpose: str) -> str:
        """Add a new active key for `purpose`; older keys stay to open what they sealed."""
        if purpose not in PURPOSES:
            raise KeyRingError(f"unknown key purpose `{purpose}`; expected one of {PURPOSES}")
        key_id = f"{purpose[0]}{random_string(self._rng, KEY_ID_ALPHABET, 15)}"
        raw = self._rng.token_bytes(KEY_BYTES)
        record = KeyRecord(
            key_id=key_id,
            purpose=purpose,
            sealed_key=self._wrap(key_id, purpose, raw),
            created_at=self._clock.now(),
        )
        with self._store.transaction() as uow:
            for old in uow.key_ring.list(purpose):
                if old.status == "active":
                    uow.key_ring.update(_retired(old))
            uow.key_ring.add(record)
        self.reload()
        return key_id

    def reload(self) -> None:
        """Re-read the key records (another instance may have rotated)."""
        keys: dict[str, tuple[KeyRecord, AESGCM]] = {}
        active: dict[str, str] = {}
        with self._store.transaction() as uow:
            records = [r for purpose in PURPOSES for r in uow.key_ring.list(purpose)]
        for record in records:
            raw = self._unwrap(record)
            keys[record.key_id] = (record, AESGCM(raw))
            if record.status == "active":
                active[record.purpose] = record.key_id
        with self._lock:
            self._keys, self._active = keys, active

    def records(self) -> list[KeyRecord]:
        with self._lock:
            return [record for record, _ in self._keys.values()]

    def seal(self, plaintext: bytes, *, context: str, purpose: str = "data") -> bytes:
        key_id, cipher = self._active_key(purpose)
        nonce = self._rng.token_bytes(NONCE_BYTES)
        body = cipher.encrypt(nonce, plaintext, context.encode("utf-8"))
        header = bytes([ENVELOPE_VERSION, len(key_id)]) + key_id.encode("ascii")
        return header + nonce + body

    def open(self, sealed: bytes, *, context: str) -> bytes:
        key_id, nonce, body = _split_envelope(sealed)
        cipher = self._cipher(key_id)
        try:
            return cipher.decrypt(nonce, body, context.encode("utf-8"))
        except InvalidTag:
            raise KeyRingError(f"sealed value does not open for context `{context}`") from None

    def _active_key(self, purpose: str) -> tuple[str, AESGCM]:
        with self._lock:
            key_id = self._active.get(purpose)
        if key_id is None:
            self.reload()
            with self._lock:
                key_id = self._active.get(purpose)
        if key_id is None:
            raise KeyRingError(f"the key ring has no active `{purpose}` key; run `bridge init`")
        return key_id, self._cipher(key_id)

    def _cipher(self, key_id: str) -> AESGCM:
        with self._lock:
            entry = self._keys.get(key_id)
        if entry is None and self._may_reload():
            self.reload()
            with self._lock:
                entry = self._keys.get(key_id)
        if entry is None:
            raise KeyRingError(f"unknown key id `{key_id}` in a sealed value")
        return entry[1]

    def _may_reload(self) -> bool:
        """An unknown key id (a rotation elsewhere, or a forged envelope) re-reads the
        key records at most once per `RELOAD_INTERVAL`, so forgeries cannot make every
        request cost a database read."""
        now = self._clock.now()
        with self._lock:
            if self._last_reload is not None and now - self._last_reload < RELOAD_INTERVAL:
                return False
            self._last_reload = now
        return True

    def _wrap(self, key_id: str, purpose: str, raw: bytes) -> bytes:
        nonce = self._rng.token_bytes(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, raw, f"{key_id}|{purpose}".encode())

    def _unwrap(self, record: KeyRecord) -> bytes:
        nonce, body = record.sealed_key[:NONCE_BYTES], record.sealed_key[NONCE_BYTES:]
        aad = f"{record.key_id}|{record.purpose}".encode()
        try:
            return self._master.decrypt(nonce, body, aad)
        except InvalidTag:
            raise KeyRingError(
                f"key `{record.key_id}` does not open with this master key "
                "(wrong BRIDGE_MASTER_KEY or master.key for this database?)"
            ) from None


def _retired(record: KeyRecord) -> KeyRecord:
    return KeyRecord(
        key_id=record.key_id,
        purpose=record.purpose,
        sealed_key=record.sealed_key,
        created_at=record.created_at,
        status="retired",
    )


def _split_envelope(sealed: bytes) -> tuple[str, bytes, bytes]:
    if len(sealed) < 2 or sealed[0] != ENVELOPE_VERSION:
        raise KeyRingError("sealed value has an unknown envelope version")
    id_end = 2 + sealed[1]
    if len(sealed) < id_end + NONCE_BYTES + 16:
        raise KeyRingError("sealed value is truncated")
    key_id = sealed[2:id_end].decode("ascii", errors="replace")
    return key_id, sealed[id_end : id_end + NONCE_BYTES], sealed[id_end + NONCE_BYTES :]
