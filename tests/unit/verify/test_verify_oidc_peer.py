"""OIDCVerifier against the real OpenID Provider in ../shared/peers/oidc (oidc-provider).

A real ID token is obtained without a browser (`tests/support/oidc_peer.py`: the
authorization code flow with PKCE over plain HTTP, the code exchanged at `/token`). The
peer runs from a copy in a temp folder on a free port.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from bridge.clock import SystemClock
from bridge.storage.interfaces import OIDCProvider
from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.http import UrlFetcher
from bridge.verify.identity import VerifiedIdentity
from bridge.verify.jwks import JWKSCache
from bridge.verify.oidc import OIDCVerifier
from tests.support.oidc_peer import CLIENT_ID, OIDCPeer, id_token, running_oidc_peer
from tests.support.peer_process import peer_user

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OIDCPeer]:
    with running_oidc_peer(tmp_path_factory.mktemp("oidc-peer")) as running:
        yield running


def provider(peer: OIDCPeer, client_ids: tuple[str, ...] = (CLIENT_ID,)) -> OIDCProvider:
    return OIDCProvider(
        arn=f"arn:aws:iam::123456789012:oidc-provider/{peer.host}",
        url=peer.issuer,
        created_at=SystemClock().now(),
        client_ids=client_ids,
    )


def verifier() -> OIDCVerifier:
    return OIDCVerifier(clock=SystemClock(), fetcher=UrlFetcher(), jwks_cache=JWKSCache())


@pytest.fixture(scope="session")
def token(peer: OIDCPeer) -> str:
    return id_token(peer, "alice")


def test_real_id_token_becomes_an_identity(peer: OIDCPeer, token: str) -> None:
    identity: VerifiedIdentity = verifier().verify(token, provider(peer))
    alice = peer_user("alice")
    assert identity.subject == "alice"
    assert identity.groups == ("staff", "admins") == tuple(alice["groups"])
    assert (identity.issuer, identity.audience) == (peer.issuer, CLIENT_ID)
    assert identity.attribute("email") == (alice["email"],)
    assert identity.expires_at > SystemClock().now()


REFUSED = [
    ("client-id-not-registered", lambda t: t, ("someone-else",), "claim `aud`"),
    ("payload-tampered", lambda t: _with_subject(t, "admin"), (CLIENT_ID,), "signature"),
]


def _with_subject(token: str, subject: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = json.dumps({**claims, "sub": subject}).encode()
    return f"{header}.{base64.urlsafe_b64encode(forged).rstrip(b'=').decode()}.{signature}"


@pytest.mark.parametrize(
    ("change", "client_ids", "fragment"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_real_id_token_is_refused_when_it_does_not_fit(
    peer: OIDCPeer, token: str, change: object, client_ids: tuple[str, ...], fragment: str
) -> None:
    assert callable(change)
    with pytest.raises(InvalidIdentityToken, match=fragment):
        verifier().verify(change(token), provider(peer, client_ids))
