"""The OIDC relying party against a real local OP over HTTP: PKCE, state, nonce, iss,
code exchange, at_hash, userinfo, groups and the Entra ID overage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bridge.clock import SystemClock, SystemRandom
from bridge.errors import BridgeError
from bridge.storage.interfaces import OIDCProvider
from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.http import UrlFetcher
from bridge.verify.jwks import JWKSCache
from bridge.verify.login_errors import GroupsOverage, LoginRefused
from bridge.verify.oidc import OIDCVerifier
from bridge.verify.oidc_rp import (
    DiscoveryCache,
    OIDCRelyingParty,
    RPConfig,
    check_at_hash,
    pkce_challenge,
)
from bridge.verify.oidc_rp_http import UrlRPHttp
from tests.support.mini_op import CLIENT_ID, CLIENT_SECRET, MiniOP, running_mini_op

REDIRECT = "https://bridge.example.test/oidc/callback"


@pytest.fixture(scope="module")
def op() -> Iterator[MiniOP]:
    with running_mini_op() as running:
        yield running


def _rp(op: MiniOP, **changes: Any) -> OIDCRelyingParty:
    config = RPConfig(
        name="corp",
        issuer=op.issuer,
        client_id=CLIENT_ID,
        client_secret=changes.pop("secret", CLIENT_SECRET),
        redirect_uri=REDIRECT,
        **changes,
    )
    record = OIDCProvider(
        arn="arn:aws:iam::123456789012:oidc-provider/" + op.issuer.split("://")[1],
        url=op.issuer,
        created_at=datetime.now(UTC),
        client_ids=(CLIENT_ID,),
    )
    clock = SystemClock()
    return OIDCRelyingParty(
        config,
        clock=clock,
        rng=SystemRandom(),
        discovery=DiscoveryCache(UrlFetcher()),
        http=UrlRPHttp(),
        verifier=OIDCVerifier(clock=clock, fetcher=UrlFetcher(), jwks_cache=JWKSCache()),
        provider_record=lambda issuer: record,
    )


def _begin(op: MiniOP, rp: OIDCRelyingParty) -> tuple[dict[str, str], dict[str, str]]:
    url, pending = rp.begin()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return query, pending


def _callback(
    op: MiniOP,
    rp: OIDCRelyingParty,
    *,
    userinfo: dict[str, Any] | None = None,
    **claims: Any,
) -> tuple[dict[str, str], dict[str, str]]:
    query, pending = _begin(op, rp)
    claims.setdefault("nonce", query["nonce"])
    code = op.issue_code(query["code_challenge"], REDIRECT, userinfo, **claims)
    return {"code": code, "state": query["state"], "iss": op.issuer}, pending


def test_begin_sends_pkce_s256_state_and_nonce(op: MiniOP) -> None:
    rp = _rp(op)
    query, pending = _begin(op, rp)
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == pkce_challenge(pending["code_verifier"])
    assert (query["state"], query["nonce"]) == (pending["state"], pending["nonce"])
    assert len({pending["state"], pending["nonce"], pending["code_verifier"]}) == 3
    assert 43 <= len(pending["code_verifier"]) <= 128  # RFC 7636 4.1
    assert query["redirect_uri"] == REDIRECT and query["scope"] == "openid email profile"


def test_a_valid_callback_gives_the_identity_with_groups(op: MiniOP) -> None:
    rp = _rp(op)
    params, pending = _callback(op, rp, sub="alice", groups=["staff", "admins"], email="a@x.test")
    identity = rp.complete(params, pending)
    assert (identity.subject, identity.groups) == ("alice", ("staff", "admins"))
    assert identity.attribute("email") == ("a@x.test",)


def test_missing_groups_claim_is_empty(op: MiniOP) -> None:
    rp = _rp(op)
    params, pending = _callback(op, rp, sub="carol")
    assert rp.complete(params, pending).groups == ()


def _tamper(params: dict[str, str], pending: dict[str, str], case: str) -> None:
    if case == "state":
        params["state"] = params["state"][:-2] + "xx"
    elif case == "foreign-iss":
        params["iss"] = "https://evil.example.test"
    elif case == "missing-iss":
        del params["iss"]
    elif case == "pkce":
        pending["code_verifier"] = "A" * 64
    elif case == "error":
        params.pop("code")
        params["error"] = "access_denied"
    elif case == "no-code":
        params.pop("code")


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        pytest.param("state", "`state` of the reply does not match", id="tampered-state"),
        pytest.param("foreign-iss", "mix-up", id="foreign-iss"),
        pytest.param("missing-iss", "no `iss`", id="missing-iss"),
        pytest.param("pkce", "refused the code exchange: `invalid_grant`", id="wrong-pkce"),
        pytest.param("error", "did not sign you in: `access_denied`", id="access-denied"),
        pytest.param("no-code", "no authorization `code`", id="no-code"),
    ],
)
def test_bad_replies_are_refused(op: MiniOP, case: str, fragment: str) -> None:
    rp = _rp(op)
    params, pending = _callback(op, rp, sub="alice")
    _tamper(params, pending, case)
    with pytest.raises(LoginRefused) as caught:
        rp.complete(params, pending)
    assert fragment in caught.value.message


def test_a_replayed_callback_cannot_exchange_the_code_twice(op: MiniOP) -> None:
    rp = _rp(op)
    params, pending = _callback(op, rp, sub="alice")
    rp.complete(params, pending)
    with pytest.raises(LoginRefused, match="invalid_grant"):
        rp.complete(params, pending)


@pytest.mark.parametrize(
    ("claims", "fragment"),
    [
        pytest.param({"nonce": "someone-else"}, "`nonce` does not match", id="wrong-nonce"),
        pytest.param({"nonce": None}, "`nonce` does not match", id="no-nonce"),
        pytest.param({"aud": "other-client"}, "claim `aud`", id="foreign-audience"),
    ],
)
def test_id_token_checks(op: MiniOP, claims: dict[str, Any], fragment: str) -> None:
    rp = _rp(op)
    query, pending = _begin(op, rp)
    body = {"sub": "alice", "nonce": query["nonce"], **claims}
    body = {k: v for k, v in body.items() if v is not None}
    code = op.issue_code(query["code_challenge"], REDIRECT, None, **body)
    params = {"code": code, "state": query["state"], "iss": op.issuer}
    with pytest.raises(InvalidIdentityToken) as caught:
        rp.complete(params, pending)
    assert fragment in caught.value.message


def test_at_hash_must_match_the_access_token(op: MiniOP) -> None:
    rp = _rp(op)
    params, pending = _callback(op, rp, sub="alice")
    op.at_hash_override = "AAAAAAAAAAAAAAAAAAAAAA"
    try:
        with pytest.raises(InvalidIdentityToken, match="at_hash"):
            rp.complete(params, pending)
    finally:
        op.at_hash_override = None


def test_check_at_hash_accepts_the_right_value(op: MiniOP) -> None:
    token = op.idp.token(sub="x")
    import base64
    import hashlib

    digest = hashlib.sha256(b"access-1").digest()[:16]
    check_at_hash(token, "access-1", base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


@pytest.mark.parametrize(
    ("userinfo", "expected"),
    [
        pytest.param({"sub": "alice", "groups": ["ops"]}, ("ops",), id="groups-from-userinfo"),
        pytest.param({"sub": "mallory", "groups": ["ops"]}, None, id="sub-mismatch"),
    ],
)
def test_userinfo(op: MiniOP, userinfo: dict[str, Any], expected: tuple[str, ...] | None) -> None:
    rp = _rp(op, use_userinfo=True)
    params, pending = _callback(op, rp, userinfo=userinfo, sub="alice", groups=["staff"])
    if expected is None:
        with pytest.raises(LoginRefused, match="userinfo `sub` differs"):
            rp.complete(params, pending)
    else:
        assert rp.complete(params, pending).groups == expected


def test_custom_groups_claim(op: MiniOP) -> None:
    rp = _rp(op, groups_claim="roles")
    params, pending = _callback(op, rp, sub="alice", roles=["Admin"], groups=["ignored"])
    assert rp.complete(params, pending).groups == ("Admin",)


def test_entra_overage_is_reported_clearly(op: MiniOP) -> None:
    rp = _rp(op)
    overage = {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.example.test/getMemberObjects"}},
    }
    params, pending = _callback(op, rp, sub="alice", **overage)
    with pytest.raises(GroupsOverage) as caught:
        rp.complete(params, pending)
    assert caught.value.message == (
        "the token says your groups are too many to include and no group lookup is "
        "configured for provider `corp`"
    )


def test_entra_overage_with_a_configured_lookup(op: MiniOP) -> None:
    rp = _rp(op, overage_url=f"{op.issuer}/groups")
    params, pending = _callback(op, rp, sub="alice", _claim_names={"groups": "src1"})
    assert rp.complete(params, pending).groups == ("g-1", "g-2")


def test_wrong_client_secret_is_a_refused_exchange(op: MiniOP) -> None:
    rp = _rp(op, secret="wrong")
    params, pending = _callback(op, rp, sub="alice")
    with pytest.raises(BridgeError, match="invalid_client"):
        rp.complete(params, pending)


def test_discovery_names_the_issuer(op: MiniOP) -> None:
    found = DiscoveryCache(UrlFetcher()).get(op.issuer, datetime.now(UTC))
    assert found.token_endpoint == f"{op.issuer}/token"
    assert found.iss_parameter_supported
    assert json.dumps(found.__dict__)


def test_an_empty_groups_array_is_no_groups(op: MiniOP) -> None:
    rp = _rp(op)
    params, pending = _callback(op, rp, sub="carol", groups=[])
    assert rp.complete(params, pending).groups == ()
