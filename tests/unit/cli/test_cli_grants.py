"""Device codes, loopback codes and CLI sessions (RFC 8628, RFC 8252, RFC 7636)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.cli_grants import (
    USER_CODE_ALPHABET,
    CliGrants,
    OAuthError,
    check_client,
    check_loopback_redirect,
    format_user_code,
    normalise_user_code,
    s256,
)
from bridge.clock import FixedClock, SystemRandom
from bridge.storage.browser_sessions import MemoryBrowserSessions
from bridge.storage.memory import MemoryStore

WHO = {"kind": "federated", "display_name": "alice@example.com", "roles": []}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def grants(clock: FixedClock) -> CliGrants:
    return CliGrants(
        MemoryBrowserSessions(clock),
        MemoryStore(clock=clock),
        clock=clock,
        rng=SystemRandom(),
        session_lifetime=timedelta(hours=12),
    )


def _error(call: object) -> str:
    with pytest.raises(OAuthError) as caught:
        call()  # type: ignore[operator]
    return caught.value.error


def test_device_flow_pending_then_approved_once(grants: CliGrants, clock: FixedClock) -> None:
    start = grants.start_device()
    assert len(start.user_code) == 8
    assert set(start.user_code) <= set(USER_CODE_ALPHABET)
    assert _error(lambda: grants.poll(start.device_code)) == "authorization_pending"
    clock.advance(1)
    assert _error(lambda: grants.poll(start.device_code)) == "slow_down"
    typed = format_user_code(start.user_code).lower()
    assert grants.pending_user_code(typed) == start.user_code
    grants.decide(typed, WHO)
    assert grants.pending_user_code(typed) is None
    access = grants.poll(start.device_code)
    assert access.display_name == "alice@example.com"
    assert grants.session(access.access_token) == WHO
    assert _error(lambda: grants.poll(start.device_code)) == "expired_token"


def test_device_flow_denied(grants: CliGrants) -> None:
    start = grants.start_device()
    grants.decide(start.user_code, None)
    assert _error(lambda: grants.poll(start.device_code)) == "access_denied"
    assert _error(lambda: grants.decide(start.user_code, WHO)) == "invalid_grant"


def test_device_code_expires(grants: CliGrants, clock: FixedClock) -> None:
    start = grants.start_device()
    clock.advance(start.expires_in + 1)
    assert grants.pending_user_code(start.user_code) is None
    assert _error(lambda: grants.poll(start.device_code)) == "expired_token"


@pytest.mark.parametrize(
    ("redirect", "verifier", "expected"),
    [
        pytest.param("http://127.0.0.1:4000/callback", "v" * 43, None, id="good"),
        pytest.param("http://127.0.0.1:4001/callback", "v" * 43, "invalid_grant", id="other-uri"),
        pytest.param("http://127.0.0.1:4000/callback", "w" * 43, "invalid_grant", id="bad-pkce"),
    ],
)
def test_authorization_code(
    grants: CliGrants, redirect: str, verifier: str, expected: str | None
) -> None:
    code = grants.issue_code(WHO, "http://127.0.0.1:4000/callback", s256("v" * 43))
    if expected is None:
        access = grants.redeem_code(code, redirect, verifier)
        assert grants.session(access.access_token) == WHO
        assert _error(lambda: grants.redeem_code(code, redirect, verifier)) == "invalid_grant"
    else:
        assert _error(lambda: grants.redeem_code(code, redirect, verifier)) == expected


def test_sessions_end_and_revoke(grants: CliGrants, clock: FixedClock) -> None:
    code = grants.issue_code(WHO, "http://127.0.0.1:1/cb", s256("x" * 43))
    access = grants.redeem_code(code, "http://127.0.0.1:1/cb", "x" * 43)
    other = grants.redeem_code(
        grants.issue_code(WHO, "http://127.0.0.1:1/cb", s256("y" * 43)),
        "http://127.0.0.1:1/cb",
        "y" * 43,
    )
    grants.revoke(access.access_token)
    assert grants.session(access.access_token) is None
    assert grants.session(other.access_token) == WHO
    clock.advance(12 * 3600)
    assert grants.session(other.access_token) is None
    assert grants.session("") is None


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("https://127.0.0.1:1/cb", id="https-not-loopback-scheme"),
        pytest.param("http://evil.example/cb", id="remote-host"),
        pytest.param("http://127.0.0.1:1/cb#frag", id="fragment"),
        pytest.param(None, id="missing"),
        pytest.param("http://127.0.0.1.evil.example/cb", id="lookalike"),
        pytest.param("http://evil.example\\@127.0.0.1/cb", id="backslash-userinfo"),
        pytest.param("http://user@127.0.0.1:1/cb", id="userinfo"),
        pytest.param("http://127.0.0.1:1/\\evil.example", id="backslash-path"),
        pytest.param("http://127.0.0.1:99999/cb", id="bad-port"),
        pytest.param("http://127.0.0.1:1/a\x07", id="control-character"),
    ],
)
def test_only_loopback_redirects(uri: str | None) -> None:
    assert _error(lambda: check_loopback_redirect(uri)) == "invalid_request"


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:4000/callback", "http://localhost:1/cb", "http://[::1]:5/cb"]
)
def test_loopback_redirects_are_taken(uri: str) -> None:
    assert check_loopback_redirect(uri) == uri


def test_client_and_user_code_helpers() -> None:
    assert _error(lambda: check_client("other")) == "invalid_client"
    check_client("bridge-cli")
    assert normalise_user_code(" bcdf-ghjk ") == "BCDFGHJK"
