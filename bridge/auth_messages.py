"""Encoded authorization messages, opened by STS `DecodeAuthorizationMessage`.

A denied request may carry an opaque message telling an authorised operator why: the
decision (`allowed`, `explicitDeny`, `matchedStatements`, `failures`) and its context
(`principal{id, arn}`, `action`, `resource`, `conditions`). The JSON is sealed with the
key ring (purpose "data", context "authorization-message": AES-256-GCM, so it can be
neither read nor altered without the key) and base64url-encoded without padding. Any
instance sharing the database opens it, also after a key rotation.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from bridge.credentials.tokens import TokenSealer
from bridge.errors import ClientFault, KeyRingError

CONTEXT = "authorization-message"
PURPOSE = "data"
MAX_ENCODED_CHARS = 10240
REQUIRED_KEYS = ("allowed", "explicitDeny", "matchedStatements", "failures", "context")


class InvalidAuthorizationMessage(ClientFault):
    """The message was not made by this bridge, was altered, or its key is gone."""


def encode_authorization_message(key_ring: TokenSealer, decision_context: Mapping[str, Any]) -> str:
    """Seal the decision and its context; `ValueError` when a required key is missing."""
    missing = [key for key in REQUIRED_KEYS if key not in decision_context]
    if missing:
        raise ValueError(f"an authorization message needs the keys {', '.join(missing)}")
    plaintext = json.dumps(dict(decision_context), separators=(",", ":"), sort_keys=True)
    sealed = key_ring.seal(plaintext.encode("utf-8"), context=CONTEXT, purpose=PURPOSE)
    return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def decode_authorization_message(key_ring: TokenSealer, text: str) -> dict[str, Any]:
    """The decision and context sealed in `text`, or `InvalidAuthorizationMessage`."""
    sealed = _unbase64(text.strip())
    try:
        plaintext = key_ring.open(sealed, context=CONTEXT)
    except KeyRingError:
        raise _invalid("it does not open with this bridge's keys") from None
    try:
        decoded = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid("its content is not JSON") from None
    if not isinstance(decoded, dict):
        raise _invalid("its content is not a JSON object")
    return decoded


def _unbase64(text: str) -> bytes:
    if not text or len(text) > MAX_ENCODED_CHARS:
        raise _invalid(f"its length must be 1 to {MAX_ENCODED_CHARS} characters")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("it is not base64url text") from None


def _invalid(reason: str) -> InvalidAuthorizationMessage:
    return InvalidAuthorizationMessage(f"the encoded authorization message is invalid: {reason}")
