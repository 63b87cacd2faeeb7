"""The session token of temporary credentials: sealed claims any instance can open.

Wire form: `BRG1.` + base64url (no padding) of a key-ring envelope (purpose "token",
context `session-token:v1`), so the token is authenticated-encrypted under the
newest token key and still opens after a rotation (the envelope names its key).
Opening needs no database read while the key is known to the ring.

Sealed payload: a format byte (1), the 40-character secret access key, then the
other claims as compact JSON (short keys, times as integers) compressed with zlib.
The secret sits outside the compressed part, so the compressed length never
depends on it. Session policies travel as documents (inline and the resolved
documents of `PolicyArns`), which keeps the decision free of database reads.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from bridge.errors import AuthenticationFailed, KeyRingError
from bridge.storage.interfaces import Tag

PREFIX = "BRG1."
CONTEXT = "session-token:v1"
PAYLOAD_FORMAT = 1
SECRET_LENGTH = 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INVALID = "the security token included in the request is invalid"

SessionKind = Literal["assumed-role", "federated-user", "user-session"]
SESSION_KINDS: tuple[SessionKind, ...] = ("assumed-role", "federated-user", "user-session")


class TokenSealer(Protocol):
    """What the key ring offers (`bridge.credentials.keys.KeyRing`)."""

    def seal(self, plaintext: bytes, *, context: str, purpose: str = "data") -> bytes: ...

    def open(self, sealed: bytes, *, context: str) -> bytes: ...


@dataclass(frozen=True)
class SessionClaims:
    """What a session token carries.

    `subject_*` name the principal the session acts for: the role (assumed-role),
    the IAM user or root account that called GetSessionToken (user-session; for root
    `subject_id` is the account id), or the IAM user that called GetFederationToken
    (federated-user, whose own name is `session_name`). `session_policies` are
    (label, document) pairs; `role_tags` are the role's tags when issued.
    """

    token_id: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    account_id: str
    kind: SessionKind
    subject_id: str
    subject_name: str
    subject_arn: str
    session_name: str
    issued_at: datetime
    expires_at: datetime
    source_identity: str | None = None
    session_tags: tuple[Tag, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    role_tags: tuple[Tag, ...] = ()
    session_policies: tuple[tuple[str, str], ...] = ()
    mfa_present: bool = False
    role_chained: bool = False

    @property
    def is_root_session(self) -> bool:
        return self.kind == "user-session" and self.subject_id == self.account_id


def seal_token(claims: SessionClaims, key_ring: TokenSealer) -> str:
    """The token string for `claims`, sealed with the newest "token" key."""
    secret = claims.secret_access_key.encode("ascii")
    if len(secret) != SECRET_LENGTH:
        raise ValueError(f"a secret access key has {SECRET_LENGTH} characters")
    body = zlib.compress(json.dumps(_to_json(claims), separators=(",", ":")).encode(), 9)
    sealed = key_ring.seal(
        bytes([PAYLOAD_FORMAT]) + secret + body, context=CONTEXT, purpose="token"
    )
    return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def open_token(token: str, key_ring: TokenSealer, *, now: datetime) -> SessionClaims:
    """The claims of a valid, unexpired token; else `AuthenticationFailed` with reason
    `InvalidClientTokenId` (malformed, tampered, unknown key) or `ExpiredToken`."""
    claims = _decode(_open(token, key_ring))
    if now >= claims.expires_at:
        raise AuthenticationFailed(
            "ExpiredToken",
            f"the security token included in the request is expired: it expired at "
            f"{_iso(claims.expires_at)}, now is {_iso(now)}",
        )
    return claims


def _open(token: str, key_ring: TokenSealer) -> bytes:
    try:
        return key_ring.open(_envelope(token), context=CONTEXT)
    except KeyRingError:
        raise _invalid("it does not open with any key of this bridge") from None


def _envelope(token: str) -> bytes:
    if not token.startswith(PREFIX):
        raise _invalid(f"it does not start with `{PREFIX}`")
    text = token[len(PREFIX) :]
    try:
        sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _invalid("it is not base64url") from None
    if base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii") != text:
        raise _invalid("it is not canonical base64url")
    return sealed


def _decode(plaintext: bytes) -> SessionClaims:
    if len(plaintext) <= 1 + SECRET_LENGTH or plaintext[0] != PAYLOAD_FORMAT:
        raise _invalid("its payload format is unknown")
    secret = plaintext[1 : 1 + SECRET_LENGTH].decode("ascii", errors="replace")
    try:
        data = json.loads(zlib.decompress(plaintext[1 + SECRET_LENGTH :]))
        return _from_json(data, secret)
    except (zlib.error, ValueError, KeyError, IndexError, TypeError):
        raise _invalid("its payload does not decode") from None


def _to_json(claims: SessionClaims) -> dict[str, Any]:
    data: dict[str, Any] = {
        "i": claims.token_id,
        "k": claims.access_key_id,
        "a": claims.account_id,
        "p": SESSION_KINDS.index(claims.kind),
        "s": [claims.subject_id, claims.subject_name, claims.subject_arn],
        "n": claims.session_name,
        "t": [_micros(claims.issued_at), _micros(claims.expires_at)],
    }
    optional: dict[str, Any] = {
        "si": claims.source_identity,
        "st": [[t.key, t.value] for t in claims.session_tags],
        "tt": list(claims.transitive_tag_keys),
        "rt": [[t.key, t.value] for t in claims.role_tags],
        "sp": [list(pair) for pair in claims.session_policies],
        "m": 1 if claims.mfa_present else 0,
        "c": 1 if claims.role_chained else 0,
    }
    data.update({key: value for key, value in optional.items() if value})
    return data


def _from_json(data: dict[str, Any], secret: str) -> SessionClaims:
    subject_id, subject_name, subject_arn = (_text(v) for v in data["s"])
    issued, expires = (_time(v) for v in data["t"])
    return SessionClaims(
        token_id=_text(data["i"]),
        access_key_id=_text(data["k"]),
        secret_access_key=secret,
        account_id=_text(data["a"]),
        kind=_kind(data["p"]),
        subject_id=subject_id,
        subject_name=subject_name,
        subject_arn=subject_arn,
        session_name=_text(data["n"]),
        issued_at=issued,
        expires_at=expires,
        source_identity=_text(data["si"]) if "si" in data else None,
        session_tags=_tags(data.get("st", [])),
        transitive_tag_keys=tuple(_text(k) for k in data.get("tt", [])),
        role_tags=_tags(data.get("rt", [])),
        session_policies=tuple((_text(a), _text(b)) for a, b in data.get("sp", [])),
        mfa_present=bool(data.get("m", 0)),
        role_chained=bool(data.get("c", 0)),
    )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _kind(value: object) -> SessionKind:
    if not isinstance(value, int) or not 0 <= value < len(SESSION_KINDS):
        raise ValueError("unknown session kind")
    return SESSION_KINDS[value]


def _tags(pairs: list[Any]) -> tuple[Tag, ...]:
    return tuple(Tag(_text(key), _text(value)) for key, value in pairs)


def _micros(when: datetime) -> int:
    delta = when - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _time(value: object) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("expected an integer time")
    return _EPOCH + timedelta(microseconds=value)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(why: str) -> AuthenticationFailed:
    return AuthenticationFailed("InvalidClientTokenId", f"{_INVALID}: {why}")
