"""Imported JWKs are kept by content: parsed once per key, never reused for another key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from test_verify_oidc_support import (
    IdPState,
    LocalServer,
    SigningKey,
    claims_for,
    make_harness,
    provider_for,
    rsa_key,
    serve,
    sign_with,
)

from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.key_cache import ImportedKeys

TTL = 3600  # JWKSCache's default time to keep a JWKS, in seconds


class Builds:
    """A build function that records each JWK it was asked to import."""

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[dict[str, Any]] = []
        self.fail = fail

    def __call__(self, jwk: Any) -> object:
        self.seen.append(dict(jwk))
        if self.fail:
            raise InvalidIdentityToken(f"key `{jwk['kid']}` refused")
        return object()


KEY_A = {"kid": "a", "kty": "RSA", "n": "AQAB1", "e": "AQAB"}

SAME_OR_NOT = [
    pytest.param(dict(KEY_A), 1, id="same-content-imported-once"),
    pytest.param({"e": "AQAB", "n": "AQAB1", "kty": "RSA", "kid": "a"}, 1, id="member-order"),
    pytest.param({**KEY_A, "n": "AQAB2"}, 2, id="same-kid-other-modulus"),
    pytest.param({**KEY_A, "alg": "RS256"}, 2, id="extra-member"),
]


@pytest.mark.parametrize(("second", "imports"), SAME_OR_NOT)
def test_keys_are_shared_only_between_equal_jwks(second: dict[str, Any], imports: int) -> None:
    cache: ImportedKeys[object] = ImportedKeys()
    build = Builds()
    first = cache.get(KEY_A, build)
    again = cache.get(second, build)
    assert len(build.seen) == imports
    assert (first is again) is (imports == 1)


def test_a_refused_key_is_not_kept() -> None:
    cache: ImportedKeys[object] = ImportedKeys()
    build = Builds(fail=True)
    for _ in range(2):
        with pytest.raises(InvalidIdentityToken, match="key `a` refused"):
            cache.get(KEY_A, build)
    assert len(build.seen) == 2
    assert len(cache) == 0


def test_the_least_recently_used_key_goes_first() -> None:
    cache: ImportedKeys[object] = ImportedKeys(maxsize=2)
    build = Builds()
    keys = [{**KEY_A, "kid": kid} for kid in ("a", "b", "c")]
    cache.get(keys[0], build)
    cache.get(keys[1], build)
    cache.get(keys[0], build)  # `a` used again: `b` is now the oldest
    cache.get(keys[2], build)
    assert len(cache) == 2
    cache.get(keys[0], build)
    assert [seen["kid"] for seen in build.seen] == ["a", "b", "c"]
    cache.get(keys[1], build)
    assert [seen["kid"] for seen in build.seen] == ["a", "b", "c", "b"]


# --- through the verifier, with real keys and a real JWKS endpoint -------------------


@pytest.fixture
def old() -> SigningKey:
    return rsa_key("k1")


@pytest.fixture
def idp(old: SigningKey) -> Iterator[LocalServer]:
    with serve(IdPState(keys=[old.jwk()])) as server:
        yield server


def test_a_key_replaced_under_the_same_kid_is_used_after_the_refresh(
    idp: LocalServer, old: SigningKey
) -> None:
    h, provider = make_harness(), provider_for(idp.url)
    new = replace(rsa_key("unused"), kid="k1")
    assert h.verifier.verify(sign_with(old, claims_for(idp.url)), provider).subject == "alice"
    idp.state.keys = [new.jwk()]
    h.clock.advance(TTL)
    at = int(h.clock.now().timestamp())
    claims = claims_for(idp.url, iat=at, exp=at + 600)
    with pytest.raises(InvalidIdentityToken, match="signature does not verify"):
        h.verifier.verify(sign_with(old, claims), provider)
    assert h.verifier.verify(sign_with(new, claims), provider).subject == "alice"


def test_a_short_rsa_key_is_refused_on_every_token(idp: LocalServer) -> None:
    weak = rsa_key("k1", 1024)
    idp.state.keys = [weak.jwk()]
    h, provider = make_harness(), provider_for(idp.url)
    for _ in range(2):
        with pytest.raises(InvalidIdentityToken, match="1024 bits, fewer than 2048"):
            h.verifier.verify(sign_with(weak, claims_for(idp.url)), provider)
