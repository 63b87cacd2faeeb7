"""A small SigV4 signer (header form) for the client's own calls to `/v1/authorize`.

Follows the AWS General Reference "Create a signed AWS API request" as botocore's
`SigV4Auth` does it: every header given is signed except the hop-by-hop and tracing
headers botocore leaves out, plus `host` from the URL (default port dropped); the path
is normalised (dot and empty segments removed) and URI-encoded once; the query is
decoded and re-encoded with the RFC 3986 unreserved set, then sorted. Standard library
only, so an internal service installs `bridge.client` without botocore.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_UNRESERVED = "-_.~"
_NOT_SIGNED = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Credentials:
    """IAM credentials: long-term keys, or temporary ones with their session token."""

    access_key_id: str
    secret_access_key: str = ""
    session_token: str | None = None

    def __repr__(self) -> str:  # the secret and the token stay out of logs
        return f"Credentials(access_key_id={self.access_key_id!r})"


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """`headers` plus `Host`, `X-Amz-Date`, `X-Amz-Security-Token` and `Authorization`."""
    if now.tzinfo is None:
        raise ValueError("sign needs a timezone-aware `now`")
    stamp = now.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    out = {name: value for name, value in headers.items() if name.lower() != "authorization"}
    if not any(name.lower() == "host" for name in out):
        out["Host"] = host_of(url)
    out["X-Amz-Date"] = stamp
    if credentials.session_token:
        out["X-Amz-Security-Token"] = credentials.session_token
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    creq, signed = canonical_request(method, url, out, hashlib.sha256(body).hexdigest())
    to_sign = string_to_sign(stamp, scope, creq)
    key = signing_key(credentials.secret_access_key, stamp[:8], region, service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return out


def host_of(url: str) -> str:
    """The Host header for `url`: lower-case host name, port only when not the default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def canonical_request(
    method: str, url: str, headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """(canonical request, signed header list) as SigV4 defines them."""
    parts = urlsplit(url)
    signed = _headers_to_sign(headers)
    names = sorted(signed)
    lines = "".join(f"{name}:{signed[name]}\n" for name in names)
    signed_list = ";".join(names)
    creq = "\n".join(
        (
            method.upper(),
            canonical_uri(parts.path),
            canonical_query(parts.query),
            lines,
            signed_list,
            payload_hash,
        )
    )
    return creq, signed_list


def canonical_uri(path: str) -> str:
    """Dot and empty segments removed, then URI-encoded once (`/` and `~` kept)."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            segments = segments[:-1]
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    return quote("/" + "/".join(segments) + trailing, safe="/~")


def canonical_query(query: str) -> str:
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((_encode(name), _encode(value)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def string_to_sign(stamp: str, scope: str, creq: str) -> str:
    return f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _encode(text: str) -> str:
    return quote(unquote(text), safe=_UNRESERVED)


def _headers_to_sign(headers: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, list[str]] = {}
    for name, value in headers.items():
        key = name.lower().strip()
        if key not in _NOT_SIGNED:
            found.setdefault(key, []).append(" ".join(value.split()))
    return {name: ",".join(values) for name, values in found.items()}
