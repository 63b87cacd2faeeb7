"""Issue temporary credentials: an `ASIA…` key id, a secret and a sealed session token.

The caller (the STS actions, `federate.py`) has already checked who may get what and
for how long (the duration ranges of `sts_iam_contract.md` §2); this module only
mints identifiers from the injected `Random`, takes the time from the injected
`Clock` and seals the claims. Nothing is written to the database: the token carries
everything an instance needs to authenticate and decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bridge.clock import Clock, Random, random_string
from bridge.credentials.tokens import SessionClaims, SessionKind, TokenSealer, seal_token
from bridge.directory import ids
from bridge.errors import InvalidInput
from bridge.storage.interfaces import Tag

TOKEN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # noqa: S105 - an alphabet
TOKEN_ID_LENGTH = 26  # 130 bits
KEY_ID_LENGTH = 16  # after `ASIA`
SECRET_LENGTH = 40


@dataclass(frozen=True)
class SessionRequest:
    """Who the session is for and what it carries (see `SessionClaims` for the fields)."""

    account_id: str
    kind: SessionKind
    subject_id: str
    subject_name: str
    subject_arn: str
    session_name: str
    duration_seconds: int
    source_identity: str | None = None
    session_tags: tuple[Tag, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    role_tags: tuple[Tag, ...] = ()
    session_policies: tuple[tuple[str, str], ...] = ()
    mfa_present: bool = False
    role_chained: bool = False


@dataclass(frozen=True)
class IssuedCredentials:
    """STS `Credentials`: shown to the caller once; the secret is never logged."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime
    claims: SessionClaims = field(repr=False)


def issue(
    request: SessionRequest, *, clock: Clock, rng: Random, key_ring: TokenSealer
) -> IssuedCredentials:
    """Mint credentials valid from now for `request.duration_seconds`
    (expiration truncated to the whole second, as STS reports it)."""
    if request.duration_seconds <= 0:
        raise InvalidInput(
            "duration_seconds",
            f"must be a positive number of seconds, got `{request.duration_seconds}`",
        )
    claims = _claims(request, clock.now(), rng)
    token = seal_token(claims, key_ring)
    return IssuedCredentials(
        claims.access_key_id, claims.secret_access_key, token, claims.expires_at, claims
    )


def random_text(rng: Random, alphabet: str, length: int) -> str:
    """`length` characters drawn uniformly from `alphabet` with one `token_bytes` call
    (not one `choice` per character) when the alphabet size divides 256, as the token id,
    key id and secret alphabets do (32, 32 and 64 characters); `random_string` otherwise."""
    size = len(alphabet)
    if size == 0 or 256 % size:
        return random_string(rng, alphabet, length)
    return "".join(alphabet[byte % size] for byte in rng.token_bytes(length))


def _claims(request: SessionRequest, now: datetime, rng: Random) -> SessionClaims:
    expires = (now + timedelta(seconds=request.duration_seconds)).replace(microsecond=0)
    return SessionClaims(
        token_id=random_text(rng, TOKEN_ID_ALPHABET, TOKEN_ID_LENGTH),
        access_key_id="ASIA" + random_text(rng, ids.ID_ALPHABET, KEY_ID_LENGTH),
        secret_access_key=random_text(rng, ids.SECRET_ALPHABET, SECRET_LENGTH),
        account_id=request.account_id,
        kind=request.kind,
        subject_id=request.subject_id,
        subject_name=request.subject_name,
        subject_arn=request.subject_arn,
        session_name=request.session_name,
        issued_at=now,
        expires_at=expires,
        source_identity=request.source_identity,
        session_tags=request.session_tags,
        transitive_tag_keys=request.transitive_tag_keys,
        role_tags=request.role_tags,
        session_policies=request.session_policies,
        mfa_present=request.mfa_present,
        role_chained=request.role_chained,
    )
