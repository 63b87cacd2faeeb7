"""OIDCVerifier against the real OpenID Provider in ../shared/peers/oidc (oidc-provider).

A real ID token is obtained without a browser: the authorization code flow with PKCE
driven over plain HTTP (login form, cookie jar, redirects), then the code exchanged at
`/token` with client_secret_basic. The peer runs from a copy in a temp folder (so the
shared folder is never written, even by root) on a free port.
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.clock import SystemClock
from bridge.storage.interfaces import OIDCProvider
from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.http import UrlFetcher
from bridge.verify.identity import VerifiedIdentity
from bridge.verify.jwks import JWKSCache
from bridge.verify.oidc import OIDCVerifier
from tests.conftest import peers_dir, service_unavailable

pytestmark = pytest.mark.slow

PEERS = peers_dir()
CLIENT_ID, CLIENT_SECRET = "bridge", "bridge-secret"
USER, PASSWORD = "alice", "alice-pass"


@dataclass(frozen=True)
class Peer:
    issuer: str
    redirect_uri: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _copy_peer(target: Path) -> Path:
    """peers/oidc with the lib.sh and users.json it reads from its parent folder."""
    (target / "oidc").mkdir(parents=True)
    for name in ("lib.sh", "users.json"):
        shutil.copy(PEERS / name, target / name)
    for name in ("package.json", "package-lock.json", "server.mjs", "start.sh", "stop.sh"):
        shutil.copy(PEERS / "oidc" / name, target / "oidc" / name)
    return target / "oidc"


@pytest.fixture(scope="session")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        service_unavailable("the OIDC peer", "node or npm is not installed")
    if not (PEERS / "oidc" / "start.sh").is_file():
        service_unavailable("the OIDC peer", f"{PEERS}/oidc/start.sh is missing")
    root = tmp_path_factory.mktemp("oidc-peer")
    app = _copy_peer(root / "peers")
    port, redirect_port = _free_port(), _free_port()
    peer = Peer(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{redirect_port}/oidc/callback")
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_ISSUER": peer.issuer,
        "OIDC_REDIRECT_URIS": peer.redirect_uri,
        "OIDC_RUN_DIR": str(root / "run"),
    }
    started = subprocess.run(
        [str(app / "start.sh")], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if started.returncode != 0:
        service_unavailable("the OIDC peer", f"start.sh failed: {started.stderr[-2000:]}")
    try:
        yield peer
    finally:
        subprocess.run(
            [str(app / "stop.sh")], env=env, capture_output=True, timeout=30, check=False
        )


# --- the authorization code flow over plain HTTP -------------------------------------------


class _Stop(urllib.request.HTTPRedirectHandler):
    """Let the test follow redirects itself, to stop at the client's redirect_uri."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Browser:
    opener: urllib.request.OpenerDirector

    @classmethod
    def new(cls) -> Browser:
        jar = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        return cls(urllib.request.build_opener(jar, _Stop(), urllib.request.ProxyHandler({})))

    def call(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=10) as answer:
                return answer.status, answer.headers.get("Location", ""), answer.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers.get("Location", ""), error.read().decode()

    def follow(self, url: str, stop_at: str, form: dict[str, str] | None = None) -> str:
        """Follow redirects from `url` until one leads to `stop_at`; return that url or the page."""
        for _ in range(10):
            status, location, body = self.call(url, form)
            form = None
            if status not in (302, 303) or not location:
                return body
            url = urllib.parse.urljoin(url, location)
            if url.startswith(stop_at):
                return url
        raise AssertionError("too many redirects")


def authorization_code(peer: Peer, verifier: str, state: str) -> str:
    challenge = hashlib.sha256(verifier.encode()).digest()
    query = urllib.parse.urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "openid email profile",
            "redirect_uri": peer.redirect_uri,
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    browser = Browser.new()
    page = browser.follow(f"{peer.issuer}/auth?{query}", peer.redirect_uri)
    action = re.search(r'action="(/interaction/[^"]+/login)"', page)
    assert action is not None, f"no login form in: {page[:300]}"
    login = {"username": USER, "password": PASSWORD}
    back = browser.follow(f"{peer.issuer}{action.group(1)}", peer.redirect_uri, login)
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)
    assert params.get("state") == [state], back
    return params["code"][0]


def id_token(peer: Peer) -> str:
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    code = authorization_code(peer, verifier, state)
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": peer.redirect_uri,
        "code_verifier": verifier,
    }
    request = urllib.request.Request(
        f"{peer.issuer}/token",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
        request, timeout=10
    ) as answer:
        return str(json.load(answer)["id_token"])


# --- the verifier over the peer's tokens ----------------------------------------------------


def provider(peer: Peer, client_ids: tuple[str, ...] = (CLIENT_ID,)) -> OIDCProvider:
    return OIDCProvider(
        arn=f"arn:aws:iam::123456789012:oidc-provider/{peer.issuer.split('://', 1)[1]}",
        url=peer.issuer,
        created_at=SystemClock().now(),
        client_ids=client_ids,
    )


def verifier() -> OIDCVerifier:
    return OIDCVerifier(clock=SystemClock(), fetcher=UrlFetcher(), jwks_cache=JWKSCache())


@pytest.fixture(scope="session")
def token(peer: Peer) -> str:
    return id_token(peer)


def _alice() -> dict[str, object]:
    users = json.loads((PEERS / "users.json").read_text(encoding="utf-8"))["users"]
    return next(user for user in users if user["username"] == USER)


def test_real_id_token_becomes_an_identity(peer: Peer, token: str) -> None:
    identity: VerifiedIdentity = verifier().verify(token, provider(peer))
    alice = _alice()
    assert identity.subject == "alice"
    assert identity.groups == ("staff", "admins") == tuple(alice["groups"])  # type: ignore[arg-type]
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
    peer: Peer, token: str, change: object, client_ids: tuple[str, ...], fragment: str
) -> None:
    assert callable(change)
    with pytest.raises(InvalidIdentityToken, match=fragment):
        verifier().verify(change(token), provider(peer, client_ids))
