"""Discovery, the JWKS cache (TTL, rate-limited refresh, stale keys) and key rotation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from test_verify_oidc_support import (
    IdPState,
    LocalServer,
    Route,
    SigningKey,
    claims_for,
    ec_key,
    encode,
    make_harness,
    provider_for,
    rsa_key,
    serve,
    sign_with,
)

from bridge.verify.errors import IdPCommunicationError, InvalidIdentityToken
from bridge.verify.jwks import cache_max_age, key_unfit

JWKS = "/jwks"
DISCOVERY = "/.well-known/openid-configuration"
INTERVAL = 60  # JWKSCache's default refresh_interval, in seconds


@dataclass(frozen=True)
class Keys:
    old: SigningKey
    new: SigningKey
    ec: SigningKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(old=rsa_key("old"), new=rsa_key("new"), ec=ec_key("ec"))


@pytest.fixture
def idp(keys: Keys) -> Iterator[LocalServer]:
    with serve(IdPState(keys=[keys.old.jwk()])) as server:
        yield server


def token(idp: LocalServer, key: SigningKey, kid: str | None = None) -> str:
    return encode({"alg": "RS256", "kid": kid or key.kid}, claims_for(idp.url), key.private)


def issued_now(idp: LocalServer, key: SigningKey, now: datetime) -> str:
    at = int(now.timestamp())
    return sign_with(key, claims_for(idp.url, iat=at, exp=at + 600))


# --- rotation and unknown kids --------------------------------------------------------


def test_unknown_kid_refreshes_once_then_is_refused(idp: LocalServer, keys: Keys) -> None:
    h, provider = make_harness(), provider_for(idp.url)
    h.verifier.verify(token(idp, keys.old), provider)
    h.clock.advance(INTERVAL)
    for kid in ("stranger-1", "stranger-2"):
        with pytest.raises(InvalidIdentityToken, match=f"no key with `kid` `{kid}`"):
            h.verifier.verify(token(idp, keys.old, kid), provider)
    assert idp.state.count(JWKS) == 2  # the first load and one refresh for both strangers


ROTATION = [
    ("after-the-interval", INTERVAL, True),
    ("within-the-interval", INTERVAL - 1, False),
]


@pytest.mark.parametrize(
    ("wait", "accepted"), [r[1:] for r in ROTATION], ids=[r[0] for r in ROTATION]
)
def test_key_rotation_is_picked_up_after_a_refresh(
    idp: LocalServer, keys: Keys, wait: int, accepted: bool
) -> None:
    h, provider = make_harness(), provider_for(idp.url)
    h.verifier.verify(token(idp, keys.old), provider)
    idp.state.keys = [keys.old.jwk(), keys.new.jwk()]
    h.clock.advance(wait)
    if accepted:
        assert h.verifier.verify(token(idp, keys.new), provider).subject == "alice"
    else:
        with pytest.raises(InvalidIdentityToken, match="next fetch is allowed"):
            h.verifier.verify(token(idp, keys.new), provider)
    assert idp.state.count(JWKS) == (2 if accepted else 1)


def test_many_unknown_kids_fetch_at_most_once_a_minute(idp: LocalServer, keys: Keys) -> None:
    h, provider = make_harness(), provider_for(idp.url)
    step, attempts = 7, 40
    for n in range(attempts):
        with pytest.raises(InvalidIdentityToken):
            h.verifier.verify(token(idp, keys.old, f"random-{n}"), provider)
        h.clock.advance(step)
    expected, last = 0, None
    for n in range(attempts):  # the rule: fetch when none yet or INTERVAL has passed
        if last is None or n * step - last >= INTERVAL:
            expected, last = expected + 1, n * step
    assert idp.state.count(JWKS) == expected
    assert idp.state.count(DISCOVERY) == expected


def test_concurrent_first_use_fetches_once(idp: LocalServer, keys: Keys) -> None:
    h, provider = make_harness(), provider_for(idp.url)
    subjects: list[str] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        subjects.append(h.verifier.verify(token(idp, keys.old), provider).subject)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert subjects == ["alice"] * 8
    assert idp.state.count(JWKS) == 1


# --- the IdP unreachable or broken ----------------------------------------------------


def _jwks_down(state: IdPState, url: str) -> None:
    state.jwks_status = 503


def _discovery_down(state: IdPState, url: str) -> None:
    state.discovery_status = 500


def _set(**members: str | None) -> Callable[[IdPState, str], None]:
    def apply(state: IdPState, url: str) -> None:
        state.discovery.update({k: v and v.replace("{url}", url) for k, v in members.items()})

    return apply


def _jwks_body(body: bytes) -> Callable[[IdPState, str], None]:
    def apply(state: IdPState, url: str) -> None:
        state.routes[JWKS] = Route(200, body)

    return apply


FAILURES: list[tuple[str, Callable[[IdPState, str], None], str]] = [
    ("jwks-503", _jwks_down, "answered HTTP 503"),
    ("discovery-500", _discovery_down, "answered HTTP 500"),
    (
        "discovery-other-issuer",
        _set(issuer="https://elsewhere.example"),
        "names issuer `https://elsewhere.example`",
    ),
    (
        "jwks-uri-plain-http-public",
        _set(jwks_uri="http://keys.example.com/jwks"),
        "only `https://`",
    ),
    ("jwks-uri-missing", _set(jwks_uri=None), "no `jwks_uri`"),
    ("jwks-not-json", _jwks_body(b"<html>"), "is not JSON"),
    ("jwks-without-keys", _jwks_body(b'{"key": []}'), "no `keys` array"),
    ("jwks-uri-404", _set(jwks_uri="{url}/missing"), "answered HTTP 404"),
]


@pytest.mark.parametrize(
    ("breakage", "fragment"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_unusable_idp_is_a_communication_error(
    idp: LocalServer, keys: Keys, breakage: Callable[[IdPState, str], None], fragment: str
) -> None:
    breakage(idp.state, idp.url)
    with pytest.raises(IdPCommunicationError) as caught:
        make_harness().verifier.verify(token(idp, keys.old), provider_for(idp.url))
    assert fragment in caught.value.message


def test_unreachable_idp_is_a_communication_error(keys: Keys) -> None:
    with serve() as gone:
        url = gone.url
    with pytest.raises(IdPCommunicationError, match="cannot fetch"):
        make_harness().verifier.verify(token(gone, keys.old), provider_for(url))


def test_failed_first_fetch_is_rate_limited_too(idp: LocalServer, keys: Keys) -> None:
    idp.state.jwks_status = 503
    h, provider = make_harness(), provider_for(idp.url)
    for _ in range(3):
        with pytest.raises(IdPCommunicationError):
            h.verifier.verify(token(idp, keys.old), provider)
    assert idp.state.count(JWKS) == 1
    idp.state.jwks_status = 200
    h.clock.advance(INTERVAL)
    assert h.verifier.verify(token(idp, keys.old), provider).subject == "alice"


STALE = [
    ("past-ttl-served-stale", timedelta(hours=1, seconds=1), True),
    ("past-stale-ttl-dropped", timedelta(hours=24, seconds=1), False),
]


@pytest.mark.parametrize(("wait", "accepted"), [s[1:] for s in STALE], ids=[s[0] for s in STALE])
def test_cached_keys_outlive_an_idp_outage_until_they_expire(
    idp: LocalServer, keys: Keys, wait: timedelta, accepted: bool
) -> None:
    h, provider = make_harness(), provider_for(idp.url)
    h.verifier.verify(token(idp, keys.old), provider)
    idp.state.jwks_status = 503
    h.clock.set(h.clock.now() + wait)
    late = issued_now(idp, keys.old, h.clock.now())
    if accepted:
        assert h.verifier.verify(late, provider).subject == "alice"
    else:
        with pytest.raises(IdPCommunicationError, match="answered HTTP 503"):
            h.verifier.verify(late, provider)
    assert idp.state.count(JWKS) == 2  # the load, then one refresh attempt that failed


def test_unknown_kid_while_the_idp_is_down(idp: LocalServer, keys: Keys) -> None:
    h, provider = make_harness(), provider_for(idp.url)
    h.verifier.verify(token(idp, keys.old), provider)
    idp.state.jwks_status = 503
    h.clock.advance(INTERVAL)
    with pytest.raises(IdPCommunicationError, match="answered HTTP 503"):
        h.verifier.verify(token(idp, keys.new), provider)
    assert h.verifier.verify(token(idp, keys.old), provider).subject == "alice"


# --- Cache-Control ---------------------------------------------------------------------

TTLS = [
    ("no-header", None, 3600),
    ("max-age-600", "public, max-age=600", 600),
    ("max-age-0-raised-to-min", "max-age=0", 300),
    ("no-store-raised-to-min", "no-store", 300),
    ("max-age-huge-capped", "max-age=9999999", 86400),
]


@pytest.mark.parametrize(("header", "ttl"), [t[1:] for t in TTLS], ids=[t[0] for t in TTLS])
def test_cache_control_sets_the_ttl_within_bounds(
    idp: LocalServer, keys: Keys, header: str | None, ttl: int
) -> None:
    idp.state.cache_control = header
    h, provider = make_harness(), provider_for(idp.url)
    start = h.clock.now()
    h.verifier.verify(token(idp, keys.old), provider)
    for offset, fetches in ((ttl - 1, 1), (ttl, 2)):
        h.clock.set(start + timedelta(seconds=offset))
        h.verifier.verify(issued_now(idp, keys.old, h.clock.now()), provider)
        assert idp.state.count(JWKS) == fetches


MAX_AGES = [
    ("absent", None, None),
    ("empty", "", None),
    ("plain", "max-age=120", 120),
    ("quoted", 'max-age="120"', 120),
    ("among-others", "public, must-revalidate, MAX-AGE=30", 30),
    ("no-cache", "no-cache", 0),
    ("negative-ignored", "max-age=-5", None),
    ("garbage-ignored", "max-age=soon", None),
]


@pytest.mark.parametrize(
    ("header", "seconds"), [m[1:] for m in MAX_AGES], ids=[m[0] for m in MAX_AGES]
)
def test_cache_max_age(header: str | None, seconds: int | None) -> None:
    assert cache_max_age(header) == seconds


# --- key rules (RFC 7517 4) --------------------------------------------------------------

RSA_JWK: dict[str, Any] = {"kty": "RSA", "n": "AQAB", "e": "AQAB"}
EC_JWK: dict[str, Any] = {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}
FITS = [
    ("rsa-bare", RSA_JWK, "RS256", None),
    (
        "rsa-all-members",
        {**RSA_JWK, "alg": "RS384", "use": "sig", "key_ops": ["verify"]},
        "RS384",
        None,
    ),
    ("rsa-for-es256", RSA_JWK, "ES256", "`kty` is `RSA`"),
    ("rsa-other-alg", {**RSA_JWK, "alg": "RS256"}, "RS512", "`alg` is `RS256`"),
    ("rsa-encryption-key", {**RSA_JWK, "use": "enc"}, "RS256", "`use` is `enc`"),
    ("rsa-key-ops-not-list", {**RSA_JWK, "key_ops": "verify"}, "RS256", "`key_ops`"),
    ("ec-p256", EC_JWK, "ES256", None),
    ("ec-p256-for-es512", EC_JWK, "ES512", "`crv` is `P-256`"),
    ("oct-for-rs256", {"kty": "oct", "k": "AA"}, "RS256", "`kty` is `oct`"),
]


@pytest.mark.parametrize(
    ("jwk", "alg", "fragment"), [f[1:] for f in FITS], ids=[f[0] for f in FITS]
)
def test_key_unfit(jwk: dict[str, Any], alg: str, fragment: str | None) -> None:
    reason = key_unfit(jwk, alg)
    if fragment is None:
        assert reason is None
    else:
        assert reason is not None and fragment in reason
