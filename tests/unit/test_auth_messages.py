"""Encoded authorization messages: sealed with the key ring, opened only by it."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from bridge.auth_messages import (
    InvalidAuthorizationMessage,
    decode_authorization_message,
    encode_authorization_message,
)
from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.keys import KeyRing
from bridge.storage.memory import MemoryStore

MESSAGE: dict[str, Any] = {
    "allowed": False,
    "explicitDeny": True,
    "matchedStatements": {"items": [{"statementId": "DenyDelete"}]},
    "failures": {"items": []},
    "context": {
        "principal": {"id": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/alice"},
        "action": "iam:DeleteUser",
        "resource": "arn:aws:iam::123456789012:user/bob",
        "conditions": {"items": [{"key": "aws:SourceIp", "values": {"items": ["10.0.0.1"]}}]},
    },
}


def _ring(master: bytes = bytes(32)) -> KeyRing:
    clock = FixedClock()
    ring = KeyRing(MemoryStore(clock=clock), master, clock=clock, rng=SystemRandom())
    ring.ensure("data")
    return ring


def test_a_message_round_trips_and_is_url_safe() -> None:
    ring = _ring()
    encoded = encode_authorization_message(ring, MESSAGE)
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "iam:DeleteUser" not in encoded
    assert decode_authorization_message(ring, encoded) == MESSAGE


def test_a_message_still_opens_after_a_rotation() -> None:
    ring = _ring()
    encoded = encode_authorization_message(ring, MESSAGE)
    ring.rotate("data")
    assert decode_authorization_message(ring, encoded) == MESSAGE


def test_a_message_without_the_decision_is_not_encoded() -> None:
    with pytest.raises(ValueError, match="explicitDeny"):
        encode_authorization_message(
            _ring(), {k: v for k, v in MESSAGE.items() if k != "explicitDeny"}
        )


def _garbled(case: str, ring: KeyRing) -> str:
    encoded = encode_authorization_message(ring, MESSAGE)
    if case == "flipped-character":
        middle = len(encoded) // 2
        return encoded[:middle] + ("A" if encoded[middle] != "A" else "B") + encoded[middle + 1 :]
    if case == "truncated":
        return encoded[:40]
    if case == "not-base64":
        return "this is not base64 !"
    if case == "empty":
        return ""
    if case == "another-bridge":
        return encode_authorization_message(_ring(bytes(range(32))), MESSAGE)
    if case == "other-context":
        sealed = ring.seal(b'{"allowed": true}', context="access-key")
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    ["flipped-character", "truncated", "not-base64", "empty", "another-bridge", "other-context"],
    ids=["flipped", "truncated", "not-base64", "empty", "another-bridge", "other-context"],
)
def test_anything_not_sealed_here_is_invalid(case: str) -> None:
    ring = _ring()
    with pytest.raises(InvalidAuthorizationMessage) as caught:
        decode_authorization_message(ring, _garbled(case, ring))
    assert caught.value.message.startswith("the encoded authorization message is invalid: ")
