"""A small OpenID provider with a token endpoint, for the relying-party tests.

Built on `tests/e2e/idp.py`'s `LocalIdP` (a real RSA key, RS256 tokens): discovery,
JWKS, `POST /token` (client_secret_basic, PKCE S256 checked, each code once) and
`GET /userinfo` (bearer). A test issues a code with `issue_code()` (what the
authorization endpoint would have done after the person signed in) and gets it back
in the callback parameters.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.idp import LocalIdP, b64url

CLIENT_ID, CLIENT_SECRET = "bridge", "bridge-secret"


@dataclass
class Grant:
    claims: dict[str, Any]
    challenge: str
    redirect_uri: str
    userinfo: dict[str, Any] | None = None


@dataclass
class MiniOP:
    idp: LocalIdP
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    at_hash_override: str | None = None
    lookup_groups: list[Any] = field(default_factory=lambda: [{"id": "g-1"}, "g-2"])

    @property
    def issuer(self) -> str:
        return self.idp.issuer

    def issue_code(
        self,
        challenge: str,
        redirect_uri: str,
        userinfo: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = Grant(claims, challenge, redirect_uri, userinfo)
        return code

    def token_answer(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        if (
            authorization
            != "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        ):
            return 401, {"error": "invalid_client"}
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode()).digest()) != grant.challenge:
            return 400, {"error": "invalid_grant"}
        access_token = secrets.token_urlsafe(24)
        at_hash = b64url(hashlib.sha256(access_token.encode()).digest()[:16])
        claims = {"at_hash": self.at_hash_override or at_hash, **grant.claims}
        with self.lock:
            self.access[access_token] = grant.userinfo or {"sub": claims.get("sub", "alice")}
        token = self.idp.token(**claims)
        return 200, {"id_token": token, "access_token": access_token, "token_type": "Bearer"}


@contextmanager
def running_mini_op() -> Iterator[MiniOP]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    holder: dict[str, MiniOP] = {}

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            op = holder["op"]
            if self.path == "/.well-known/openid-configuration":
                self._send(200, _discovery(op.issuer))
            elif self.path == "/jwks":
                self._send(200, op.idp.jwks())
            elif self.path == "/groups":  # a Microsoft Graph-shaped group lookup
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                known = token in op.access
                self._send(200 if known else 401, {"value": op.lookup_groups} if known else {})
            elif self.path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                info = op.access.get(token)
                self._send(200 if info else 401, info or {"error": "invalid_token"})
            else:
                self._send(404, {})

        def do_POST(self) -> None:
            op = holder["op"]
            length = int(self.headers.get("Content-Length") or 0)
            raw = parse_qs(self.rfile.read(length).decode())
            form = {k: v[0] for k, v in raw.items()}
            if self.path != "/token":
                self._send(404, {})
                return
            status, body = op.token_answer(form, unquote(self.headers.get("Authorization", "")))
            self._send(status, body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    holder["op"] = MiniOP(LocalIdP(issuer, key))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["op"]
    finally:
        server.shutdown()
        server.server_close()


def _discovery(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/auth",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "authorization_response_iss_parameter_supported": True,
        "id_token_signing_alg_values_supported": ["RS256"],
    }
