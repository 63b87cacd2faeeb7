"""A small OpenID provider for end-to-end tests: a real RSA key, discovery and JWKS served
over real HTTP on loopback, and RS256 tokens signed with `cryptography`."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class LocalIdP:
    issuer: str
    key: rsa.RSAPrivateKey
    kid: str = "test-key-1"

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "kid": self.kid,
                    "alg": "RS256",
                    "use": "sig",
                    "n": b64url(n),
                    "e": b64url(e),
                }
            ]
        }

    def token(self, *, alg: str = "RS256", lifetime: int = 600, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": "bridge",
            "sub": "alice",
            "iat": now,
            "exp": now + lifetime,
        }
        body.update(claims)
        header = {"alg": alg, "kid": self.kid, "typ": "JWT"}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}"
        signature = (
            b""
            if alg == "none"
            else self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        )
        return f"{signing_input}.{b64url(signature)}"


@contextmanager
def running_idp() -> Iterator[LocalIdP]:
    """Discovery and JWKS on 127.0.0.1 (a free port) until the block ends."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    documents: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = documents.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body or b"{}")

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    idp = LocalIdP(issuer, key)
    documents["/.well-known/openid-configuration"] = json.dumps(
        {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
    ).encode()
    documents["/jwks"] = json.dumps(idp.jwks()).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp
    finally:
        server.shutdown()
        server.server_close()
