"""The real OpenID Provider peer (npm `oidc-provider`) and a browserless login driver.

`running_oidc_peer()` starts a copy of `peers/oidc` on a free port; `id_token()` runs the
authorization code flow with PKCE over plain HTTP (login form, cookie jar, redirects)
and exchanges the code at `/token` with client_secret_basic (OIDC Core 3.1).
"""

from __future__ import annotations

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.peer_process import (
    copy_peer,
    free_port,
    peer_user,
    require_peer,
    running_script,
)

WHAT = "the OIDC peer (oidc-provider)"
CLIENT_ID, CLIENT_SECRET = "bridge", "bridge-secret"


@dataclass(frozen=True)
class OIDCPeer:
    issuer: str
    redirect_uri: str
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    @property
    def host(self) -> str:
        """`127.0.0.1:<port>`: the prefix of the `<host>:aud` and `<host>:sub` keys."""
        return self.issuer.split("://", 1)[1]


@contextmanager
def running_oidc_peer(workdir: Path) -> Iterator[OIDCPeer]:
    """The OP on a free port, run from a copy in `workdir`, until the block ends."""
    require_peer(WHAT, "oidc", "node", "npm")
    app = copy_peer("oidc", workdir / "peers")
    port, redirect_port = free_port(), free_port()
    peer = OIDCPeer(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{redirect_port}/oidc/callback")
    env = {
        "OIDC_PORT": str(port),
        "OIDC_ISSUER": peer.issuer,
        "OIDC_REDIRECT_URIS": peer.redirect_uri,
        "OIDC_RUN_DIR": str(workdir / "run"),
    }
    with running_script(WHAT, app, env):
        yield peer


class _Stop(urllib.request.HTTPRedirectHandler):
    """Let the driver follow redirects itself, to stop at the client's redirect_uri."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Browser:
    """A cookie jar and an opener that does not follow redirects, without proxies."""

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


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_code(peer: OIDCPeer, verifier: str, state: str, username: str) -> str:
    """Sign in as `username` on the OP's login page; the code sent to the redirect_uri."""
    query = urllib.parse.urlencode(
        {
            "client_id": peer.client_id,
            "response_type": "code",
            "scope": "openid email profile",
            "redirect_uri": peer.redirect_uri,
            "state": state,
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    browser = Browser.new()
    page = browser.follow(f"{peer.issuer}/auth?{query}", peer.redirect_uri)
    action = re.search(r'action="(/interaction/[^"]+/login)"', page)
    assert action is not None, f"no login form in: {page[:300]}"
    login = {"username": username, "password": str(peer_user(username)["password"])}
    back = browser.follow(f"{peer.issuer}{action.group(1)}", peer.redirect_uri, login)
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)
    assert params.get("state") == [state], back
    return params["code"][0]


def id_token(peer: OIDCPeer, username: str = "alice") -> str:
    """A fresh ID token for `username`, signed by the OP."""
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    code = authorization_code(peer, verifier, state, username)
    basic = base64.b64encode(f"{peer.client_id}:{peer.client_secret}".encode()).decode()
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
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as answer:
        return str(json.load(answer)["id_token"])
