"""OIDCVerifier against a real local IdP (discovery + JWKS over HTTP) with real keys."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from test_verify_oidc_support import (
    CLIENT_ID,
    NOW,
    IdPState,
    LocalServer,
    SigningKey,
    b64url,
    claims_for,
    ec_key,
    encode,
    make_harness,
    provider_for,
    rsa_key,
    serve,
    sign_with,
)

from bridge.verify.errors import ExpiredIdentityToken, InvalidIdentityToken
from bridge.verify.http import FetchResult, UrlFetcher
from bridge.verify.jwks import JWKSCache
from bridge.verify.oidc import (
    OIDCVerifier,
    session_tags,
    source_identity,
    transitive_tag_keys,
)

TS = int(NOW.timestamp())


@dataclass(frozen=True)
class Keys:
    rsa: SigningKey
    ec256: SigningKey
    ec384: SigningKey
    ec521: SigningKey
    attacker: SigningKey

    def published(self) -> list[dict[str, Any]]:
        return [k.jwk() for k in (self.rsa, self.ec256, self.ec384, self.ec521)]


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa=rsa_key("rsa-1"),
        ec256=ec_key("ec-256", "P-256"),
        ec384=ec_key("ec-384", "P-384"),
        ec521=ec_key("ec-521", "P-521"),
        attacker=rsa_key("attacker"),
    )


@pytest.fixture
def idp(keys: Keys) -> Iterator[LocalServer]:
    with serve(IdPState(keys=keys.published())) as server:
        yield server


@pytest.fixture
def attacker() -> Iterator[LocalServer]:
    with serve() as server:
        yield server


def verify(idp: LocalServer, token: str, **options: Any) -> Any:
    return make_harness(**options).verifier.verify(token, provider_for(idp.url))


# --- valid tokens ----------------------------------------------------------------------

ALGORITHMS = [
    ("RS256", "rsa"),
    ("RS384", "rsa"),
    ("RS512", "rsa"),
    ("ES256", "ec256"),
    ("ES384", "ec384"),
    ("ES512", "ec521"),
]


@pytest.mark.parametrize(("alg", "key_name"), ALGORITHMS, ids=[a for a, _ in ALGORITHMS])
def test_accepts_each_sts_algorithm(idp: LocalServer, keys: Keys, alg: str, key_name: str) -> None:
    key: SigningKey = getattr(keys, key_name)
    claims = claims_for(idp.url)
    identity = verify(idp, sign_with(key, claims, alg))
    assert (identity.issuer, identity.subject, identity.audience) == (
        claims["iss"],
        claims["sub"],
        claims["aud"],
    )
    assert identity.expires_at == datetime.fromtimestamp(claims["exp"], UTC)


def test_identity_carries_every_claim(idp: LocalServer, keys: Keys) -> None:
    claims = claims_for(
        idp.url,
        auth_time=TS - 30,
        amr=["pwd", "mfa"],
        groups=["staff", "admins"],
        email="alice@example.com",
        nested={"team": {"id": 7}},
        numbers=[1, 2.5, True],
        nothing=None,
    )
    identity = verify(idp, sign_with(keys.rsa, claims))
    assert identity.protocol == "oidc"
    assert identity.provider_arn == provider_for(idp.url).arn
    assert identity.message_id == claims["jti"]
    assert identity.authenticated_at == datetime.fromtimestamp(claims["auth_time"], UTC)
    assert identity.mfa is True
    assert identity.amr == tuple(claims["amr"])
    assert identity.groups == tuple(claims["groups"])
    assert identity.attribute("email") == (claims["email"],)
    assert json.loads(identity.attribute("nested")[0]) == claims["nested"]
    assert identity.attribute("numbers") == ("1", "2.5", "true")
    assert identity.attribute("aud") == (CLIENT_ID,)
    assert "sub" not in identity.attributes
    assert "groups" not in identity.attributes


NORMALISED = [
    ("groups-string", {"groups": "staff"}, "groups", ("staff",)),
    ("amr-string-no-mfa", {"amr": "pwd"}, "amr", ("pwd",)),
    ("no-groups", {}, "groups", ()),
]


@pytest.mark.parametrize(
    ("changes", "field", "expected"), [c[1:] for c in NORMALISED], ids=[c[0] for c in NORMALISED]
)
def test_claims_are_normalised(
    idp: LocalServer, keys: Keys, changes: dict[str, Any], field: str, expected: tuple[str, ...]
) -> None:
    identity = verify(idp, sign_with(keys.rsa, claims_for(idp.url, **changes)))
    assert getattr(identity, field) == expected


def test_message_id_is_a_token_digest_without_jti(idp: LocalServer, keys: Keys) -> None:
    first = sign_with(keys.rsa, claims_for(idp.url, jti=None))
    second = sign_with(keys.rsa, claims_for(idp.url, jti=None, sub="bob"))
    ids = {verify(idp, first).message_id, verify(idp, second).message_id}
    assert len(ids) == 2
    assert all(len(i) == 64 for i in ids)


def test_several_audiences_take_the_azp(idp: LocalServer, keys: Keys) -> None:
    claims = claims_for(idp.url, aud=["other-app", CLIENT_ID], azp=CLIENT_ID)
    assert verify(idp, sign_with(keys.rsa, claims)).audience == claims["azp"]


def test_session_tags_and_source_identity(idp: LocalServer, keys: Keys) -> None:
    tags = {"principal_tags": {"Team": ["blue"], "Cost": "42"}, "transitive_tag_keys": ["Team"]}
    claims = claims_for(
        idp.url,
        **{"https://aws.amazon.com/tags": tags, "https://aws.amazon.com/source_identity": "alice"},
    )
    identity = verify(idp, sign_with(keys.rsa, claims))
    assert session_tags(identity) == (("Team", "blue"), ("Cost", "42"))
    assert transitive_tag_keys(identity) == ("Team",)
    assert source_identity(identity) == "alice"


def test_no_session_tags_claim(idp: LocalServer, keys: Keys) -> None:
    identity = verify(idp, sign_with(keys.rsa, claims_for(idp.url)))
    assert (session_tags(identity), transitive_tag_keys(identity), source_identity(identity)) == (
        (),
        (),
        None,
    )


ACCEPTED_EDGES = [
    ("expired-within-skew", {"exp": TS - 59}),
    ("nbf-within-skew", {"nbf": TS + 59}),
    ("iat-within-skew", {"iat": TS + 59}),
    ("float-times", {"iat": TS + 0.5, "exp": TS + 600.25}),
]


@pytest.mark.parametrize(
    "changes", [c[1] for c in ACCEPTED_EDGES], ids=[c[0] for c in ACCEPTED_EDGES]
)
def test_times_within_the_clock_skew_pass(
    idp: LocalServer, keys: Keys, changes: dict[str, Any]
) -> None:
    assert verify(idp, sign_with(keys.rsa, claims_for(idp.url, **changes))).subject == "alice"


# --- declared claims table -------------------------------------------------------------

BAD_TAGS = "https://aws.amazon.com/tags"
CLAIM_FAULTS: list[
    tuple[str, Callable[[str], dict[str, Any]], type[Exception], tuple[str, ...]]
] = [
    (
        "wrong-iss",
        lambda u: {"iss": "https://evil.example"},
        InvalidIdentityToken,
        ("claim `iss`", "https://evil.example"),
    ),
    (
        "iss-trailing-slash",
        lambda u: {"iss": u + "/"},
        InvalidIdentityToken,
        ("claim `iss`", "compared exactly"),
    ),
    (
        "aud-not-a-client-id",
        lambda u: {"aud": "someone-else"},
        InvalidIdentityToken,
        ("claim `aud`", "someone-else", CLIENT_ID),
    ),
    (
        "several-aud-no-azp",
        lambda u: {"aud": [CLIENT_ID, "x"]},
        InvalidIdentityToken,
        ("claim `azp`",),
    ),
    (
        "several-aud-foreign-azp",
        lambda u: {"aud": [CLIENT_ID, "x"], "azp": "x"},
        InvalidIdentityToken,
        ("claim `azp`", "`x`"),
    ),
    (
        "expired",
        lambda u: {"exp": TS - 120},
        ExpiredIdentityToken,
        ("expired", "120 s", "clock skew of 60 s"),
    ),
    ("nbf-in-future", lambda u: {"nbf": TS + 300}, InvalidIdentityToken, ("claim `nbf`", "300 s")),
    (
        "iat-far-in-future",
        lambda u: {"iat": TS + 86400, "exp": TS + 90000},
        InvalidIdentityToken,
        ("claim `iat`", "86400 s"),
    ),
    ("missing-iss", lambda u: {"iss": None}, InvalidIdentityToken, ("claim `iss` is required",)),
    ("missing-sub", lambda u: {"sub": None}, InvalidIdentityToken, ("claim `sub` is required",)),
    ("missing-aud", lambda u: {"aud": None}, InvalidIdentityToken, ("claim `aud` is required",)),
    ("missing-exp", lambda u: {"exp": None}, InvalidIdentityToken, ("claim `exp` is required",)),
    ("missing-iat", lambda u: {"iat": None}, InvalidIdentityToken, ("claim `iat` is required",)),
    ("empty-sub", lambda u: {"sub": ""}, InvalidIdentityToken, ("claim `sub` must be",)),
    ("numeric-sub", lambda u: {"sub": 42}, InvalidIdentityToken, ("claim `sub` must be", "`42`")),
    (
        "exp-string",
        lambda u: {"exp": "soon"},
        InvalidIdentityToken,
        ("claim `exp` must be a NumericDate",),
    ),
    (
        "exp-boolean",
        lambda u: {"exp": True},
        InvalidIdentityToken,
        ("claim `exp` must be a NumericDate",),
    ),
    (
        "exp-huge",
        lambda u: {"exp": 10**20},
        InvalidIdentityToken,
        ("claim `exp` must be a NumericDate",),
    ),
    ("aud-empty-list", lambda u: {"aud": []}, InvalidIdentityToken, ("claim `aud` must be",)),
    (
        "aud-mixed-list",
        lambda u: {"aud": [CLIENT_ID, 3]},
        InvalidIdentityToken,
        ("claim `aud` must be",),
    ),
    (
        "groups-object",
        lambda u: {"groups": {"a": 1}},
        InvalidIdentityToken,
        ("claim `groups` must be",),
    ),
    (
        "tags-not-object",
        lambda u: {BAD_TAGS: ["x"]},
        InvalidIdentityToken,
        ("must be a JSON object",),
    ),
    (
        "tags-value-list-of-two",
        lambda u: {BAD_TAGS: {"principal_tags": {"K": ["a", "b"]}}},
        InvalidIdentityToken,
        (".principal_tags.K",),
    ),
    (
        "tags-value-number",
        lambda u: {BAD_TAGS: {"principal_tags": {"K": [1]}}},
        InvalidIdentityToken,
        (".principal_tags.K",),
    ),
    (
        "tags-key-too-long",
        lambda u: {BAD_TAGS: {"principal_tags": {"K" * 129: ["v"]}}},
        InvalidIdentityToken,
        ("1-128",),
    ),
    (
        "tags-duplicate-key-case",
        lambda u: {BAD_TAGS: {"principal_tags": {"K": ["a"], "k": ["b"]}}},
        InvalidIdentityToken,
        ("unique key",),
    ),
    (
        "tags-too-many",
        lambda u: {BAD_TAGS: {"principal_tags": {f"k{i}": ["v"] for i in range(51)}}},
        InvalidIdentityToken,
        ("at most 50",),
    ),
    (
        "tags-transitive-unknown",
        lambda u: {BAD_TAGS: {"principal_tags": {"K": ["v"]}, "transitive_tag_keys": ["Z"]}},
        InvalidIdentityToken,
        ("transitive_tag_keys[0]", "`Z`"),
    ),
    (
        "tags-transitive-not-list",
        lambda u: {BAD_TAGS: {"transitive_tag_keys": "K"}},
        InvalidIdentityToken,
        (".transitive_tag_keys must be",),
    ),
    (
        "source-identity-number",
        lambda u: {"https://aws.amazon.com/source_identity": 7},
        InvalidIdentityToken,
        ("source_identity` must be",),
    ),
]


@pytest.mark.parametrize(
    ("changes", "error", "fragments"),
    [c[1:] for c in CLAIM_FAULTS],
    ids=[c[0] for c in CLAIM_FAULTS],
)
def test_claim_faults_are_refused(
    idp: LocalServer,
    keys: Keys,
    changes: Callable[[str], dict[str, Any]],
    error: type[Exception],
    fragments: tuple[str, ...],
) -> None:
    token = sign_with(keys.rsa, claims_for(idp.url, **changes(idp.url)))
    with pytest.raises(error) as caught:
        verify(idp, token)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_skew_is_configurable(idp: LocalServer, keys: Keys) -> None:
    token = sign_with(keys.rsa, claims_for(idp.url, exp=TS - 120))
    assert verify(idp, token, clock_skew=timedelta(seconds=300)).subject == "alice"
    with pytest.raises(ExpiredIdentityToken, match="clock skew of 0 s"):
        verify(idp, sign_with(keys.rsa, claims_for(idp.url, exp=TS - 1)), clock_skew=timedelta(0))


# --- the attack suite ----------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    keys: Keys
    issuer: str
    attacker_url: str

    def claims(self, **changes: Any) -> dict[str, Any]:
        return claims_for(self.issuer, **changes)

    def valid(self) -> str:
        return sign_with(self.keys.rsa, self.claims())


def _tampered(scene: Scene) -> str:
    header, _, sig = scene.valid().split(".")
    forged = b64url(json.dumps(scene.claims(sub="admin")).encode())
    return f"{header}.{forged}.{sig}"


def _confusion(scene: Scene) -> str:
    pem = scene.keys.rsa.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encode({"alg": "HS256", "kid": "rsa-1"}, scene.claims(), pem)


def _stripped(scene: Scene) -> str:
    header, payload, _ = scene.valid().split(".")
    return f"{header}.{payload}."


def _embedded(scene: Scene, kid: str) -> str:
    bad = scene.keys.attacker
    return encode({"alg": "RS256", "kid": kid, "jwk": bad.jwk()}, scene.claims(), bad.private)


def _remote(scene: Scene, header: str, path: str) -> str:
    bad = scene.keys.attacker
    return encode(
        {"alg": "RS256", "kid": bad.kid, header: f"{scene.attacker_url}{path}"},
        scene.claims(),
        bad.private,
    )


ATTACKS: list[tuple[str, Callable[[Scene], str], str]] = [
    (
        "alg-none",
        lambda s: encode({"alg": "none", "kid": "rsa-1"}, s.claims(), None),
        "header `alg` is `none`",
    ),
    (
        "alg-none-capitalised",
        lambda s: encode({"alg": "None", "kid": "rsa-1"}, s.claims(), None),
        "header `alg` is `None`",
    ),
    (
        "alg-missing",
        lambda s: encode({"alg": "none"}, s.claims(), None).replace(
            b64url(b'{"alg": "none"}'), b64url(b"{}")
        ),
        "header `alg`",
    ),
    ("hs256-with-rsa-public-key", _confusion, "header `alg` is `HS256`"),
    ("ps256", lambda s: sign_with(s.keys.rsa, s.claims(), "PS256"), "header `alg` is `PS256`"),
    (
        "eddsa",
        lambda s: encode(
            {"alg": "EdDSA", "kid": "ed"}, s.claims(), ed25519.Ed25519PrivateKey.generate()
        ),
        "header `alg` is `EdDSA`",
    ),
    (
        "wrong-signature",
        lambda s: encode({"alg": "RS256", "kid": "rsa-1"}, s.claims(), s.keys.attacker.private),
        "signature does not verify",
    ),
    ("payload-tampering", _tampered, "signature does not verify"),
    ("signature-stripped", _stripped, "signature does not verify"),
    (
        "es256-signed-with-rsa-kid",
        lambda s: encode({"alg": "ES256", "kid": "rsa-1"}, s.claims(), s.keys.ec256.private),
        "`kty` is `RSA`",
    ),
    (
        "es384-with-p256-key",
        lambda s: encode({"alg": "ES384", "kid": "ec-256"}, s.claims(), s.keys.ec256.private),
        "`crv` is `P-256`",
    ),
    (
        "embedded-jwk-attacker-kid",
        lambda s: _embedded(s, "attacker"),
        "no key with `kid` `attacker`",
    ),
    ("embedded-jwk-known-kid", lambda s: _embedded(s, "rsa-1"), "signature does not verify"),
    ("jku-to-attacker", lambda s: _remote(s, "jku", "/jwks"), "no key with `kid` `attacker`"),
    ("x5u-to-attacker", lambda s: _remote(s, "x5u", "/cert.pem"), "no key with `kid` `attacker`"),
    (
        "crit-extension",
        lambda s: sign_with(s.keys.rsa, s.claims(), crit=["exp"], exp=1),
        "header `crit`",
    ),
    (
        "kid-not-a-string",
        lambda s: encode({"alg": "RS256", "kid": 5}, s.claims(), s.keys.rsa.private),
        "header `kid` must be a string",
    ),
]


@pytest.mark.parametrize(
    ("build", "fragment"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS]
)
def test_attacks_are_refused(
    idp: LocalServer,
    attacker: LocalServer,
    keys: Keys,
    build: Callable[[Scene], str],
    fragment: str,
) -> None:
    token = build(Scene(keys, idp.url, attacker.url))
    with pytest.raises(InvalidIdentityToken) as caught:
        verify(idp, token)
    assert fragment in caught.value.message
    assert attacker.state.requests == []


def test_algorithm_is_refused_before_any_key_lookup(idp: LocalServer, keys: Keys) -> None:
    scene = Scene(keys, idp.url, "")
    with pytest.raises(InvalidIdentityToken):
        verify(idp, _confusion(scene))
    assert idp.state.requests == []


SHAPES: list[tuple[str, Callable[[Scene], str], str]] = [
    ("empty", lambda s: "", "1 dot-separated parts"),
    ("two-parts", lambda s: "a.b", "2 dot-separated parts"),
    ("jwe-five-parts", lambda s: "a.b.c.d.e", "encrypted (JWE)"),
    (
        "header-not-base64url",
        lambda s: "@@@." + s.valid().split(".", 1)[1],
        "header is not base64url",
    ),
    (
        "header-padded",
        lambda s: s.valid().split(".")[0] + "=." + s.valid().split(".", 1)[1],
        "header is not base64url",
    ),
    (
        "header-not-json",
        lambda s: b64url(b"{alg") + "." + s.valid().split(".", 1)[1],
        "header is not UTF-8 JSON",
    ),
    (
        "header-array",
        lambda s: b64url(b"[1]") + "." + s.valid().split(".", 1)[1],
        "header must be a JSON object",
    ),
    (
        "payload-not-json",
        lambda s: encode({"alg": "RS256", "kid": "rsa-1"}, b"not json", s.keys.rsa.private),
        "payload is not UTF-8 JSON",
    ),
    (
        "payload-array",
        lambda s: encode({"alg": "RS256", "kid": "rsa-1"}, b"[]", s.keys.rsa.private),
        "payload must be a JSON object",
    ),
    (
        "payload-duplicate-sub",
        lambda s: encode(
            {"alg": "RS256", "kid": "rsa-1"},
            json.dumps(s.claims())
            .replace('"sub": "alice"', '"sub": "alice", "sub": "admin"')
            .encode(),
            s.keys.rsa.private,
        ),
        "more than once",
    ),
    (
        "payload-nan",
        lambda s: encode(
            {"alg": "RS256", "kid": "rsa-1"},
            json.dumps(s.claims()).replace(f'"exp": {TS + 600}', '"exp": NaN').encode(),
            s.keys.rsa.private,
        ),
        "`NaN` is not JSON",
    ),
    (
        "oversized",
        lambda s: sign_with(s.keys.rsa, s.claims(padding="x" * 20000)),
        "more than the 20000 allowed",
    ),
]


@pytest.mark.parametrize(("build", "fragment"), [a[1:] for a in SHAPES], ids=[a[0] for a in SHAPES])
def test_malformed_tokens_are_refused(
    idp: LocalServer, keys: Keys, build: Callable[[Scene], str], fragment: str
) -> None:
    with pytest.raises(InvalidIdentityToken) as caught:
        verify(idp, build(Scene(keys, idp.url, "")))
    assert fragment in caught.value.message


def test_token_size_limit_is_configurable(idp: LocalServer, keys: Keys) -> None:
    token = sign_with(keys.rsa, claims_for(idp.url))
    assert verify(idp, token, max_token_bytes=len(token)).subject == "alice"
    with pytest.raises(InvalidIdentityToken, match=f"{len(token)} bytes"):
        verify(idp, token, max_token_bytes=len(token) - 1)


# --- provider and key rules ------------------------------------------------------------


class RecordingFetcher:
    def __init__(self) -> None:
        self.urls: list[str] = []
        self._inner = UrlFetcher(timeout_seconds=2.0)

    def fetch(self, url: str) -> FetchResult:
        self.urls.append(url)
        return self._inner.fetch(url)


@pytest.mark.parametrize(
    "url", ["http://idp.example.com", "ftp://idp.example.com"], ids=["http-public-host", "ftp"]
)
def test_non_https_provider_is_refused_without_fetching(keys: Keys, url: str) -> None:
    fetcher = RecordingFetcher()
    harness = make_harness()
    verifier = OIDCVerifier(clock=harness.clock, fetcher=fetcher, jwks_cache=JWKSCache())
    with pytest.raises(InvalidIdentityToken, match="only `https://`"):
        verifier.verify(sign_with(keys.rsa, claims_for(url)), provider_for(url))
    assert fetcher.urls == []


KEY_RULES: list[tuple[str, Callable[[Keys], list[dict[str, Any]]], str]] = [
    ("jwk-alg-differs", lambda k: [k.rsa.jwk(alg="RS512")], "`alg` is `RS512`"),
    ("jwk-use-enc", lambda k: [k.rsa.jwk(use="enc")], "`use` is `enc`"),
    ("jwk-key-ops-sign-only", lambda k: [k.rsa.jwk(key_ops=["sign"])], "`key_ops`"),
    ("jwk-broken-modulus", lambda k: [{**k.rsa.jwk(), "n": "!!"}], "fewer than 2048"),
    ("rsa-1024", lambda k: [replace(rsa_key("rsa-1", 1024), kid="rsa-1").jwk()], "1024 bits"),
]


@pytest.mark.parametrize(
    ("published", "fragment"), [r[1:] for r in KEY_RULES], ids=[r[0] for r in KEY_RULES]
)
def test_published_key_must_fit_the_token(
    idp: LocalServer, keys: Keys, published: Callable[[Keys], list[dict[str, Any]]], fragment: str
) -> None:
    idp.state.keys = published(keys)
    with pytest.raises(InvalidIdentityToken) as caught:
        verify(idp, sign_with(keys.rsa, claims_for(idp.url)))
    assert fragment in caught.value.message


def test_jwk_with_matching_alg_and_use_is_accepted(idp: LocalServer, keys: Keys) -> None:
    idp.state.keys = [keys.rsa.jwk(alg="RS256", use="sig", key_ops=["verify"])]
    assert verify(idp, sign_with(keys.rsa, claims_for(idp.url))).subject == "alice"


NO_KID = [
    ("one-rsa-key", lambda k: [k.rsa.jwk(), k.ec256.jwk()], None),
    ("two-rsa-keys", lambda k: [k.rsa.jwk(), k.attacker.jwk()], "has no header `kid`"),
]


@pytest.mark.parametrize(
    ("published", "fragment"), [n[1:] for n in NO_KID], ids=[n[0] for n in NO_KID]
)
def test_token_without_kid_needs_exactly_one_fitting_key(
    idp: LocalServer,
    keys: Keys,
    published: Callable[[Keys], list[dict[str, Any]]],
    fragment: str | None,
) -> None:
    idp.state.keys = published(keys)
    token = encode({"alg": "RS256"}, claims_for(idp.url), keys.rsa.private)
    if fragment is None:
        assert verify(idp, token).subject == "alice"
        return
    with pytest.raises(InvalidIdentityToken, match=fragment):
        verify(idp, token)
