"""What the directory needs to keep secrets at rest: a `Sealer`.

The key ring (`bridge/credentials/keys.py`) implements it with authenticated
encryption; `context` is bound to the ciphertext (as associated data), so a
sealed secret moved to another record does not open.
"""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        """Encrypt and authenticate `plaintext`, bound to `context`."""
        ...

    def open(self, sealed: bytes, *, context: str) -> bytes:
        """Decrypt what `seal` returned for the same `context`; raise `KeyRingError` if not."""
        ...


def access_key_context(access_key_id: str) -> str:
    return f"access-key:{access_key_id}"


def mfa_context(serial_number: str) -> str:
    return f"mfa:{serial_number}"
