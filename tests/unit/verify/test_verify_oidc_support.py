"""Helpers for the OIDC verifier tests: real keys, a real local IdP, hand-made JWS.

Tokens are signed here with `cryptography` directly (not with the library under test),
so the attack cases can build exactly the bytes an attacker would send.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bridge.clock import FixedClock
from bridge.storage.interfaces import OIDCProvider
from bridge.verify.http import UrlFetcher
from bridge.verify.jwks import JWKSCache
from bridge.verify.oidc import OIDCVerifier

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLIENT_ID = "bridge"
ACCOUNT = "123456789012"
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
CRV_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int, size: int | None = None) -> bytes:
    return value.to_bytes(size or (value.bit_length() + 7) // 8, "big")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: PrivateKey

    def jwk(self, **extra: Any) -> dict[str, Any]:
        """The public JWK the IdP publishes (RFC 7518 6.2, 6.3)."""
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            numbers = public.public_numbers()
            body = {
                "kty": "RSA",
                "n": b64url(_int_bytes(numbers.n)),
                "e": b64url(_int_bytes(numbers.e)),
            }
        elif isinstance(public, ec.EllipticCurvePublicKey):
            point = public.public_numbers()
            size = (public.curve.key_size + 7) // 8
            crv = CRV_NAMES[public.curve.name]
            body = {
                "kty": "EC",
                "crv": crv,
                "x": b64url(_int_bytes(point.x, size)),
                "y": b64url(_int_bytes(point.y, size)),
            }
        else:
            raise TypeError("no JWK for this key in the tests")
        return {"kid": self.kid, **body, **extra}


def rsa_key(kid: str, bits: int = 2048) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits))


def ec_key(kid: str, crv: str = "P-256") -> SigningKey:
    return SigningKey(kid, ec.generate_private_key(CURVES[crv]()))


def signature(alg: str, data: bytes, key: PrivateKey | bytes | None) -> bytes:
    """Sign as RFC 7518 3 says, for every algorithm an attacker might try."""
    family, bits = alg[:2], alg[2:]
    if alg.lower() == "none":
        return b""
    if family == "HS" and isinstance(key, bytes):
        return hmac.new(key, data, getattr(hashlib, f"sha{bits}")).digest()
    if family == "RS" and isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), HASHES[bits]())
    if family == "PS" and isinstance(key, rsa.RSAPrivateKey):
        pss = padding.PSS(mgf=padding.MGF1(HASHES[bits]()), salt_length=int(bits) // 8)
        return key.sign(data, pss, HASHES[bits]())
    if family == "ES" and isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(HASHES[bits]())))
        size = (key.curve.key_size + 7) // 8
        return _int_bytes(r, size) + _int_bytes(s, size)
    if alg == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise TypeError(f"cannot sign {alg} with {type(key).__name__}")


def encode(
    header: dict[str, Any], claims: dict[str, Any] | bytes, key: PrivateKey | bytes | None
) -> str:
    payload = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(payload)}"
    return f"{signing_input}.{b64url(signature(header['alg'], signing_input.encode(), key))}"


def claims_for(issuer: str, **changes: Any) -> dict[str, Any]:
    """A valid claim set at NOW; a change to None removes the claim."""
    now = int(NOW.timestamp())
    base: dict[str, Any] = {
        "iss": issuer,
        "sub": "alice",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 600,
        "jti": "token-1",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def sign_with(key: SigningKey, claims: dict[str, Any], alg: str = "RS256", **header: Any) -> str:
    return encode({"alg": alg, "kid": key.kid, **header}, claims, key.private)


# --- a real local HTTP server ------------------------------------------------------


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    send_length: bool = True  # False: no Content-Length, the body ends when the connection does


@dataclass
class IdPState:
    keys: list[dict[str, Any]] = field(default_factory=list)
    jwks_status: int = 200
    discovery_status: int = 200
    cache_control: str | None = None
    discovery: dict[str, Any] = field(default_factory=dict)  # members overriding the default
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> int:
        with self.lock:
            return self.requests.count(path)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append(self.path)
        route = state.routes.get(self.path) or self._default(state)
        time.sleep(route.delay_seconds)
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.send_length:
            self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(route.body)  # a client that gave up (size cap, timeout)

    def _default(self, state: IdPState) -> Route:
        base = self.server.url
        if self.path == "/.well-known/openid-configuration":
            doc = {"issuer": base, "jwks_uri": f"{base}/jwks", **state.discovery}
            return Route(state.discovery_status, json.dumps(doc).encode())
        if self.path == "/jwks":
            headers = {"Cache-Control": state.cache_control} if state.cache_control else {}
            return Route(state.jwks_status, json.dumps({"keys": state.keys}).encode(), headers)
        return Route(404, b"not found")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: IdPState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@dataclass
class LocalServer:
    url: str
    state: IdPState


@contextlib.contextmanager
def serve(state: IdPState | None = None) -> Iterator[LocalServer]:
    server = _Server(state or IdPState())
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield LocalServer(server.url, server.state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- the system under test -----------------------------------------------------------


def provider_for(url: str, client_ids: tuple[str, ...] = (CLIENT_ID,)) -> OIDCProvider:
    name = url.split("://", 1)[-1]
    return OIDCProvider(
        arn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/{name}",
        url=url,
        created_at=NOW,
        client_ids=client_ids,
    )


@dataclass
class Harness:
    clock: FixedClock
    verifier: OIDCVerifier
    cache: JWKSCache


def make_harness(**verifier_options: Any) -> Harness:
    clock = FixedClock(NOW)
    cache = JWKSCache()
    verifier = OIDCVerifier(
        clock=clock, fetcher=UrlFetcher(timeout_seconds=2.0), jwks_cache=cache, **verifier_options
    )
    return Harness(clock, verifier, cache)
