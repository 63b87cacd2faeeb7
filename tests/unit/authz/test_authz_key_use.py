"""Last use of long-term keys: at most one write per key per minute per process, never
failing the request; keys read through the directory cache still stop at once here."""

from __future__ import annotations

import logging

import pytest
from authz_sessions import World, signed

from bridge.authz.authenticate import Authenticator
from bridge.authz.key_use import KeyUse
from bridge.errors import AuthenticationFailed

STS = ("sts",)


@pytest.fixture
def world() -> World:
    return World()


def _keys(world: World, count: int) -> list[tuple[str, str]]:
    world.user("carol")
    created = [world.directory.keys.create("carol") for _ in range(count)]
    return [(k.key.access_key_id, k.secret_access_key) for k in created]


def _last_used(world: World, access_key_id: str) -> object:
    return world.directory.keys.last_used(access_key_id)[1].last_used_at


@pytest.mark.parametrize(
    ("later", "same_key", "second_written"),
    [
        pytest.param(59, True, False, id="same-key-within-the-minute"),
        pytest.param(60, True, True, id="same-key-after-a-minute"),
        pytest.param(1, False, True, id="another-key-at-once"),
    ],
)
def test_a_key_use_is_written_at_most_once_a_minute(
    world: World, later: int, same_key: bool, second_written: bool
) -> None:
    first_key, other_key = (key for key, _ in _keys(world, 2))
    uses = KeyUse(world.directory.keys)
    first_at = world.clock.now()
    first = uses.record(first_key, "sts", "eu-west-1", now=first_at)
    world.clock.advance(later)
    second_key = first_key if same_key else other_key
    second = uses.record(second_key, "s3", "eu-west-1", now=world.clock.now())
    expected_last = world.clock.now() if second_written else first_at
    assert (first, second) == (True, second_written)
    assert _last_used(world, second_key) == expected_last


def test_a_failed_write_is_logged_and_counted_not_raised(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    ((key, secret),) = _keys(world, 1)
    world.directory.keys.delete("carol", key)
    uses = KeyUse(world.directory.keys)
    with caplog.at_level(logging.ERROR, logger="bridge.authz.key_use"):
        written = uses.record(key, "sts", "eu-west-1", now=world.clock.now())
    assert (written, uses.failures) == (False, 1)
    assert f"last use of access key `{key}` not stored: NotFound" in caplog.text
    assert secret not in caplog.text


def test_signed_requests_write_the_last_use_once_a_minute(world: World) -> None:
    ((key, secret),) = _keys(world, 1)
    auth = Authenticator(world.directory, key_ring=world.key_ring)
    first_at = world.clock.now()
    for _ in range(3):
        auth.authenticate(signed(key, secret, None), now=world.clock.now(), services=STS)
        world.clock.advance(10)
    assert _last_used(world, key) == first_at


def test_a_key_deactivated_here_is_refused_at_once(world: World) -> None:
    ((key, secret),) = _keys(world, 1)
    auth = Authenticator(world.directory, key_ring=world.key_ring)
    auth.authenticate(signed(key, secret, None), now=world.clock.now(), services=STS)
    world.directory.keys.update_status("carol", key, "Inactive")
    with pytest.raises(AuthenticationFailed) as refused:
        auth.authenticate(signed(key, secret, None), now=world.clock.now(), services=STS)
    assert refused.value.reason == "InvalidClientTokenId"
