"""Session tokens: round trip, tampering, context, rotation, expiry, size, no clear secret."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.keys import KeyRing
from bridge.credentials.tokens import CONTEXT, PREFIX, SessionClaims, open_token, seal_token
from bridge.errors import AuthenticationFailed
from bridge.storage.interfaces import Tag
from bridge.storage.memory import MemoryStore

ACCOUNT = "123456789012"
T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKE"
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)

ROLE_SESSION = SessionClaims(
    token_id="tokenidtokenidtokenidtoken",
    access_key_id="ASIAABCDEFGHIJKLMNOP",
    secret_access_key=SECRET,
    account_id=ACCOUNT,
    kind="assumed-role",
    subject_id="AROAABCDEFGHIJKLMNOPQ",
    subject_name="deploy",
    subject_arn=f"arn:aws:iam::{ACCOUNT}:role/ci/deploy",
    session_name="alice@example.com",
    issued_at=T0,
    expires_at=T0.replace(microsecond=0) + timedelta(hours=1),
)
FULL = replace(
    ROLE_SESSION,
    source_identity="alice",
    session_tags=(Tag("team", "blue"), Tag("Ünï", "漢字 ✓")),
    transitive_tag_keys=("team",),
    role_tags=(Tag("team", "red"), Tag("cost", "42")),
    session_policies=(("session-policy", POLICY), (f"arn:aws:iam::{ACCOUNT}:policy/p", "{}")),
    mfa_present=True,
    role_chained=True,
)
FEDERATED = replace(
    ROLE_SESSION,
    kind="federated-user",
    subject_id="AIDAABCDEFGHIJKLMNOPQ",
    subject_name="bob",
    subject_arn=f"arn:aws:iam::{ACCOUNT}:user/bob",
    session_name="contractor",
)
ROOT_SESSION = replace(
    ROLE_SESSION,
    kind="user-session",
    subject_id=ACCOUNT,
    subject_name="",
    subject_arn=f"arn:aws:iam::{ACCOUNT}:root",
    session_name="",
)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(clock=FixedClock(T0))


def ring(store: MemoryStore, master: bytes = bytes(range(32))) -> KeyRing:
    key_ring = KeyRing(store, master, clock=FixedClock(T0), rng=SystemRandom())
    key_ring.ensure("token")
    return key_ring


def envelope(token: str) -> bytes:
    body = token.removeprefix(PREFIX)
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def wrap(sealed: bytes) -> str:
    return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def refused(token: str, key_ring: KeyRing, now: datetime = T0) -> AuthenticationFailed:
    with pytest.raises(AuthenticationFailed) as caught:
        open_token(token, key_ring, now=now)
    return caught.value


@pytest.mark.parametrize(
    "claims",
    [ROLE_SESSION, FULL, FEDERATED, ROOT_SESSION],
    ids=["minimal-role-session", "every-field", "federated-user", "root-session"],
)
def test_round_trip_gives_back_the_claims(store: MemoryStore, claims: SessionClaims) -> None:
    key_ring = ring(store)
    token = seal_token(claims, key_ring)
    assert token.startswith(PREFIX)
    assert set(token[len(PREFIX) :]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert open_token(token, key_ring, now=T0) == claims


def test_sealing_twice_gives_different_tokens(store: MemoryStore) -> None:
    key_ring = ring(store)
    assert seal_token(ROLE_SESSION, key_ring) != seal_token(ROLE_SESSION, key_ring)


def test_every_character_changed_is_refused(store: MemoryStore) -> None:
    key_ring = ring(store)
    token = seal_token(ROLE_SESSION, key_ring)
    reasons = set()
    for index, char in enumerate(token):
        changed = token[:index] + ("B" if char != "B" else "C") + token[index + 1 :]
        reasons.add(refused(changed, key_ring).reason)
    assert reasons == {"InvalidClientTokenId"}


def test_every_byte_flip_of_the_envelope_is_refused(store: MemoryStore) -> None:
    key_ring = ring(store)
    sealed = envelope(seal_token(FULL, key_ring))
    reasons = set()
    for index in range(len(sealed)):
        flipped = sealed[:index] + bytes([sealed[index] ^ 0x01]) + sealed[index + 1 :]
        reasons.add(refused(wrap(flipped), key_ring).reason)
    assert reasons == {"InvalidClientTokenId"}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "",
        lambda t: PREFIX,
        lambda t: "BRG2." + t[len(PREFIX) :],
        lambda t: t[len(PREFIX) :],
        lambda t: t[:-10],
        lambda t: t + "A",
        lambda t: t[:20] + "!" + t[21:],
        lambda t: t[:20] + "=" + t[21:],
        lambda t: t + "==",
    ],
    ids=[
        "empty",
        "prefix-only",
        "unknown-version",
        "no-prefix",
        "truncated",
        "extra-character",
        "not-base64url",
        "padding-inside",
        "padded",
    ],
)
def test_malformed_tokens_are_refused(store: MemoryStore, mangle: object) -> None:
    key_ring = ring(store)
    token = seal_token(ROLE_SESSION, key_ring)
    assert callable(mangle)
    failure = refused(mangle(token), key_ring)
    assert failure.reason == "InvalidClientTokenId"
    assert failure.message.startswith("the security token included in the request is invalid")


def test_non_canonical_base64_is_refused(store: MemoryStore) -> None:
    key_ring = ring(store)
    names = ("a", "ab1", "ab2c", "a3bc5", "7ab9cd")  # zlib output grows with distinct bytes
    tokens = [seal_token(replace(ROLE_SESSION, session_name=n), key_ring) for n in names]
    # a token whose last character carries unused bits (the envelope is not a multiple of 3)
    token = next(t for t in tokens if len(envelope(t)) % 3)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    same_bytes = token[:-1] + alphabet[last ^ 1]
    assert envelope(same_bytes) == envelope(token)
    assert "canonical" in refused(same_bytes, key_ring).message


@pytest.mark.parametrize(
    ("context", "purpose"),
    [
        ("access-key:ASIAABCDEFGHIJKLMNOP", "token"),
        ("session-token:v2", "token"),
        (CONTEXT, "data"),
    ],
    ids=["another-record", "another-version", "data-key"],
)
def test_values_sealed_for_another_use_are_refused(
    store: MemoryStore, context: str, purpose: str
) -> None:
    key_ring = ring(store)
    key_ring.ensure("data")
    genuine = envelope(seal_token(ROLE_SESSION, key_ring))
    plaintext = key_ring.open(genuine, context=CONTEXT)
    forged = wrap(key_ring.seal(plaintext, context=context, purpose=purpose))
    if context == CONTEXT:  # a data key under the token context: the ring opens it
        assert open_token(forged, key_ring, now=T0) == ROLE_SESSION
    else:
        assert refused(forged, key_ring).reason == "InvalidClientTokenId"


def test_a_token_of_another_deployment_is_refused(store: MemoryStore) -> None:
    theirs = ring(MemoryStore(clock=FixedClock(T0)), master=bytes(32))
    assert refused(seal_token(ROLE_SESSION, theirs), ring(store)).reason == "InvalidClientTokenId"


def test_rotation_keeps_old_tokens_and_seals_new_ones_with_the_new_key(store: MemoryStore) -> None:
    key_ring = ring(store)
    old = seal_token(ROLE_SESSION, key_ring)
    new_key = key_ring.rotate("token")
    new = seal_token(FULL, key_ring)
    other_instance = KeyRing(store, bytes(range(32)), clock=FixedClock(T0), rng=SystemRandom())
    key_id = envelope(new)[2 : 2 + envelope(new)[1]].decode()
    assert key_id == new_key
    assert envelope(old)[2 : 2 + envelope(old)[1]].decode() != new_key
    assert open_token(old, other_instance, now=T0) == ROLE_SESSION
    assert open_token(new, other_instance, now=T0) == FULL


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (timedelta(0), None),
        (timedelta(minutes=59, seconds=59, microseconds=999999), None),
        (timedelta(hours=1), "ExpiredToken"),
        (timedelta(days=3), "ExpiredToken"),
    ],
    ids=["at-issue", "last-microsecond", "at-expiry", "long-after"],
)
def test_expiry_is_checked_against_now(
    store: MemoryStore, offset: timedelta, reason: str | None
) -> None:
    key_ring = ring(store)
    token = seal_token(ROLE_SESSION, key_ring)
    now = ROLE_SESSION.expires_at - timedelta(hours=1) + offset
    if reason is None:
        assert open_token(token, key_ring, now=now) == ROLE_SESSION
    else:
        failure = refused(token, key_ring, now)
        assert failure.reason == reason
        assert "expired at 2026-01-01T13:00:00Z" in failure.message


def test_a_tampered_expired_token_is_invalid_not_expired(store: MemoryStore) -> None:
    key_ring = ring(store)
    sealed = envelope(seal_token(ROLE_SESSION, key_ring))
    tampered = wrap(sealed[:-1] + bytes([sealed[-1] ^ 0x80]))
    assert refused(tampered, key_ring, T0 + timedelta(days=1)).reason == "InvalidClientTokenId"


def test_the_secret_and_the_claims_are_never_in_clear(store: MemoryStore) -> None:
    key_ring = ring(store)
    token = seal_token(FULL, key_ring)
    sealed = envelope(token)
    for needle in (SECRET, "alice@example.com", "deploy", "s3:GetObject", ACCOUNT):
        assert needle.encode() not in sealed
        assert needle not in token
        assert base64.b64encode(needle.encode()).decode()[:16] not in token


def test_the_secret_is_kept_out_of_the_repr() -> None:
    assert SECRET not in repr(FULL)


def _tags(count: int) -> tuple[Tag, ...]:
    return tuple(
        Tag(f"team-attribute-{n:02d}", f"value-of-attribute-{n:02d}") for n in range(count)
    )


def _policy(size: int, rng: random.Random | None) -> str:
    statements = [
        {"Effect": "Allow", "Action": f"s3:Get{n}", "Resource": f"arn:aws:s3:::bucket-{n}/*"}
        for n in range(40)
    ]
    text = json.dumps({"Version": "2012-10-17", "Statement": statements})
    if rng is not None:  # incompressible: the worst case
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(size))
    return text[:size]


@pytest.mark.parametrize(
    "rng", [None, random.Random(3)], ids=["realistic-policy", "incompressible-policy"]
)
def test_fifty_tags_and_a_full_policy_stay_under_six_kilobytes(
    store: MemoryStore, rng: random.Random | None
) -> None:
    policy = _policy(2048, rng)
    assert len(policy) == 2048
    claims = replace(
        FULL,
        session_tags=_tags(50),
        transitive_tag_keys=tuple(t.key for t in _tags(50)),
        session_policies=(("session-policy", policy),),
    )
    token = seal_token(claims, ring(store))
    assert len(token) < 6 * 1024
    assert open_token(token, ring(store), now=T0) == claims
