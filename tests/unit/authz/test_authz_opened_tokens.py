"""Session tokens opened once per process: a hit skips decryption, expiry and tampering are
still refused on every use."""

from __future__ import annotations

import pytest
from authz_sessions import World

from bridge.authz.opened_tokens import OpenedTokens
from bridge.credentials.keys import KeyRing
from bridge.errors import AuthenticationFailed


class CountingRing:
    """The real key ring, counting the tokens it opens."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self.opened = 0

    def seal(self, plaintext: bytes, *, context: str, purpose: str = "data") -> bytes:
        return self._ring.seal(plaintext, context=context, purpose=purpose)

    def open(self, sealed: bytes, *, context: str) -> bytes:
        self.opened += 1
        return self._ring.open(sealed, context=context)


@pytest.fixture
def world() -> World:
    return World()


def test_a_token_is_opened_once_and_its_claims_reused(world: World) -> None:
    creds = world.role_session(world.role("deploy"))
    ring, tokens = CountingRing(world.key_ring), OpenedTokens()
    first = tokens.open(creds.session_token, ring, now=world.clock.now())
    again = tokens.open(creds.session_token, ring, now=world.clock.now())
    assert (first is again, ring.opened, len(tokens)) == (True, 1, 1)


@pytest.mark.parametrize(
    ("later", "reason"),
    [
        pytest.param(3599, None, id="valid-until-the-last-second"),
        pytest.param(3600, "ExpiredToken", id="expired-though-cached"),
    ],
)
def test_expiry_is_checked_on_every_use(world: World, later: int, reason: str | None) -> None:
    creds = world.role_session(world.role("deploy"), duration_seconds=3600)
    tokens = OpenedTokens()
    tokens.open(creds.session_token, world.key_ring, now=world.clock.now())
    world.clock.advance(later)
    try:
        tokens.open(creds.session_token, world.key_ring, now=world.clock.now())
        seen = None
    except AuthenticationFailed as exc:
        seen = exc.reason
    assert seen == reason


def test_a_tampered_token_is_refused_after_the_genuine_one_was_cached(world: World) -> None:
    token = world.role_session(world.role("deploy")).session_token
    tokens = OpenedTokens()
    tokens.open(token, world.key_ring, now=world.clock.now())
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(AuthenticationFailed) as refused:
        tokens.open(tampered, world.key_ring, now=world.clock.now())
    assert refused.value.reason == "InvalidClientTokenId"


def test_the_cache_is_bounded(world: World) -> None:
    role = world.role("deploy")
    tokens = OpenedTokens(size=2)
    for name in ("a1", "a2", "a3"):
        tokens.open(
            world.role_session(role, name).session_token, world.key_ring, now=world.clock.now()
        )
    assert len(tokens) == 2
