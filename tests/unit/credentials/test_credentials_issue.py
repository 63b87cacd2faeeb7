"""Issuing temporary credentials: identifier formats, expiration from the clock, the token."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.clock import FixedClock, SystemRandom
from bridge.credentials.issue import SessionRequest, issue, random_text
from bridge.credentials.keys import KeyRing
from bridge.credentials.tokens import open_token
from bridge.directory import ids
from bridge.errors import InvalidInput
from bridge.storage.interfaces import Tag
from bridge.storage.memory import MemoryStore

ACCOUNT = "123456789012"
T0 = datetime(2026, 1, 1, 12, 0, 0, 654321, tzinfo=UTC)
REQUEST = SessionRequest(
    account_id=ACCOUNT,
    kind="assumed-role",
    subject_id="AROAABCDEFGHIJKLMNOPQ",
    subject_name="deploy",
    subject_arn=f"arn:aws:iam::{ACCOUNT}:role/deploy",
    session_name="alice",
    duration_seconds=3600,
    source_identity="alice",
    session_tags=(Tag("team", "blue"),),
    transitive_tag_keys=("team",),
    role_tags=(Tag("cost", "42"),),
    session_policies=(("session-policy", '{"Version":"2012-10-17","Statement":[]}'),),
    mfa_present=True,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def key_ring(clock: FixedClock) -> KeyRing:
    ring = KeyRing(MemoryStore(clock=clock), bytes(range(32)), clock=clock, rng=SystemRandom())
    ring.ensure("token")
    return ring


@pytest.mark.parametrize(
    ("duration", "expiration"),
    [
        (900, datetime(2026, 1, 1, 12, 15, 0, tzinfo=UTC)),
        (3600, datetime(2026, 1, 1, 13, 0, 0, tzinfo=UTC)),
        (129600, datetime(2026, 1, 3, 0, 0, 0, tzinfo=UTC)),
    ],
    ids=["fifteen-minutes", "one-hour", "thirty-six-hours"],
)
def test_expiration_comes_from_the_clock_in_whole_seconds(
    clock: FixedClock, key_ring: KeyRing, duration: int, expiration: datetime
) -> None:
    issued = issue(
        replace(REQUEST, duration_seconds=duration),
        clock=clock,
        rng=SystemRandom(),
        key_ring=key_ring,
    )
    assert issued.expiration == expiration
    assert issued.claims.issued_at == T0


def test_identifiers_have_the_aws_formats(clock: FixedClock, key_ring: KeyRing) -> None:
    issued = issue(REQUEST, clock=clock, rng=SystemRandom(), key_ring=key_ring)
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", issued.access_key_id)
    assert re.fullmatch(r"[A-Za-z0-9+/]{40}", issued.secret_access_key)
    assert re.fullmatch(r"[a-z2-7]{26}", issued.claims.token_id)


def test_the_token_opens_to_the_request_and_the_minted_values(
    clock: FixedClock, key_ring: KeyRing
) -> None:
    issued = issue(REQUEST, clock=clock, rng=SystemRandom(), key_ring=key_ring)
    claims = open_token(issued.session_token, key_ring, now=T0)
    assert claims == issued.claims
    assert (claims.access_key_id, claims.secret_access_key, claims.expires_at) == (
        issued.access_key_id,
        issued.secret_access_key,
        issued.expiration,
    )
    carried = {name: getattr(claims, name) for name in vars(REQUEST) if name != "duration_seconds"}
    assert carried == {name: getattr(REQUEST, name) for name in carried}


def test_each_issue_mints_new_credentials(clock: FixedClock, key_ring: KeyRing) -> None:
    first, second = (
        issue(REQUEST, clock=clock, rng=SystemRandom(), key_ring=key_ring) for _ in range(2)
    )
    assert first.access_key_id != second.access_key_id
    assert first.secret_access_key != second.secret_access_key
    assert first.claims.token_id != second.claims.token_id


def test_a_later_clock_gives_a_later_expiration(clock: FixedClock, key_ring: KeyRing) -> None:
    before = issue(REQUEST, clock=clock, rng=SystemRandom(), key_ring=key_ring)
    clock.advance(600)
    after = issue(REQUEST, clock=clock, rng=SystemRandom(), key_ring=key_ring)
    assert after.expiration - before.expiration == timedelta(seconds=600)


@pytest.mark.parametrize("duration", [0, -1], ids=["zero", "negative"])
def test_a_duration_that_is_not_positive_is_refused(
    clock: FixedClock, key_ring: KeyRing, duration: int
) -> None:
    with pytest.raises(InvalidInput, match=f"duration_seconds: .* got `{duration}`"):
        issue(
            replace(REQUEST, duration_seconds=duration),
            clock=clock,
            rng=SystemRandom(),
            key_ring=key_ring,
        )


def test_the_secret_stays_out_of_the_repr(clock: FixedClock, key_ring: KeyRing) -> None:
    issued = issue(REQUEST, clock=clock, rng=SystemRandom(), key_ring=key_ring)
    assert issued.secret_access_key not in repr(issued)
    assert issued.session_token not in repr(issued)
    assert issued.access_key_id in repr(issued)


class ScriptedRandom:
    """Hands out the bytes it was given, in order, and counts the calls."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls: list[str] = []

    def token_bytes(self, n: int) -> bytes:
        self.calls.append(f"token_bytes({n})")
        taken, self.data = self.data[:n], self.data[n:]
        return taken

    def choice(self, alphabet: str) -> str:
        self.calls.append("choice")
        taken, self.data = self.data[:1], self.data[1:]
        return alphabet[taken[0] % len(alphabet)]


RANDOM_TEXT = [
    pytest.param("ABCD", bytes([0, 1, 2, 3, 4, 255]), "ABCDAD", ["token_bytes(6)"], id="size-4"),
    pytest.param(
        "ab" * 16, bytes([31, 32, 33, 64]), "baba", ["token_bytes(4)"], id="size-32-wraps"
    ),
    pytest.param(
        "xyz", bytes([0, 1, 2, 4]), "xyzy", ["choice"] * 4, id="size-3-one-choice-a-character"
    ),
]


@pytest.mark.parametrize(("alphabet", "data", "expected", "calls"), RANDOM_TEXT)
def test_random_text_takes_bytes_from_the_injected_random(
    alphabet: str, data: bytes, expected: str, calls: list[str]
) -> None:
    rng = ScriptedRandom(data)
    assert random_text(rng, alphabet, len(expected)) == expected
    assert rng.calls == calls


def test_random_text_is_uniform_over_the_secret_alphabet() -> None:
    """Every byte value 0..255 once: each of the 64 characters comes out exactly 4 times."""
    text = random_text(ScriptedRandom(bytes(range(256))), ids.SECRET_ALPHABET, 256)
    assert {text.count(char) for char in ids.SECRET_ALPHABET} == {4}
