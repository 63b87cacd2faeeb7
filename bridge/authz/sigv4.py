"""Verify AWS Signature Version 4 requests, in the header form and the presigned query form.

Follows the AWS General Reference "Create a signed AWS API request" (canonical request,
string to sign, HMAC key chain) and "Authenticating requests: using query parameters",
as botocore's `SigV4Auth` and `SigV4QueryAuth` sign them (`sts_iam_contract.md` §1.5).
The path is the one received, still percent-encoded: it is normalised (dot segments and
empty segments removed) and each segment URI-encoded once more, which is the "encode
twice" rule for non-S3 services. Errors carry AWS's codes (`reason`) and messages.
Reading the Authorization header or the query parameters is in `sigv4_parse`.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from bridge.authz.sigv4_parse import (
    ALGORITHM,
    AMZ_DATE_FORMAT,
    MAX_PRESIGNED_EXPIRES,
    TERMINATOR,
    Parsed,
    SignedRequest,
    SigV4Error,
    parse,
    query_pairs,
)

# defined in `sigv4_parse`; still importable from here
__all__ = ["ALGORITHM", "MAX_PRESIGNED_EXPIRES", "TERMINATOR", "SigV4Error", "SignedRequest"]

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
ANY_SERVICE = "*"  # in `services`: accept a credential scoped to any service name
_UNRESERVED = "-_.~"
_INVALID_KEY = "The security token included in the request is invalid"


@dataclass(frozen=True)
class Caller:
    """Who signed the request, as the credential scope and the signature show it."""

    access_key_id: str
    region: str
    service: str
    security_token: str | None
    signed_at: datetime


KeyLookup = Callable[[str, str | None], str | None]
"""(access key id, security token or None) → the secret, or None when unknown or inactive."""


def derive_signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC chain over date, region, service and `aws4_request`."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class SigningKeyCache:
    """A bounded LRU of derived signing keys, keyed by the sha256 of the secret."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._keys: OrderedDict[tuple[bytes, str, str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, secret: str, date: str, region: str, service: str) -> bytes:
        ident = (hashlib.sha256(secret.encode()).digest(), date, region, service)
        with self._lock:
            if ident in self._keys:
                self._keys.move_to_end(ident)
                return self._keys[ident]
        key = derive_signing_key(secret, date, region, service)
        with self._lock:
            self._keys[ident] = key
            while len(self._keys) > self._size:
                self._keys.popitem(last=False)
        return key


def verify(
    request: SignedRequest,
    lookup: KeyLookup,
    *,
    now: datetime,
    services: Collection[str] = ("iam", "sts"),
    max_skew: timedelta = timedelta(minutes=15),
    signing_keys: SigningKeyCache | None = None,
) -> Caller:
    """Check the signature of `request` and return who signed it, or raise `SigV4Error`."""
    if now.tzinfo is None:
        raise ValueError("verify needs a timezone-aware `now`")
    parsed = parse(request)
    _check_scope(parsed, services)
    _check_time(parsed, now, max_skew)
    payload_hashes = _payload_hashes(request, parsed)
    secret = lookup(parsed.access_key_id, parsed.security_token)
    if secret is None:
        raise SigV4Error("InvalidClientTokenId", _INVALID_KEY)
    scope = (parsed.scope_date, parsed.region, parsed.service)
    if signing_keys is not None:  # not `if signing_keys`: an empty cache is falsy (`__len__`)
        key = signing_keys.get(secret, *scope)
    else:
        key = derive_signing_key(secret, *scope)
    if not any(_signature_matches(request, parsed, key, h) for h in payload_hashes):
        raise _mismatch(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return Caller(
        parsed.access_key_id, parsed.region, parsed.service, parsed.security_token, parsed.signed_at
    )


def _signature_matches(
    request: SignedRequest, parsed: Parsed, key: bytes, payload_hash: str
) -> bool:
    presigned = parsed.expires is not None
    creq = canonical_request(request, parsed.signed_headers, payload_hash, presigned=presigned)
    expected = hmac.new(key, string_to_sign(parsed.amz_date, parsed.scope, creq).encode(), "sha256")
    return hmac.compare_digest(expected.hexdigest().encode(), parsed.signature.encode())


def string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    digest = hashlib.sha256(creq.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def canonical_request(
    request: SignedRequest, signed_headers: tuple[str, ...], payload_hash: str, *, presigned: bool
) -> str:
    """METHOD, URI, query, headers (each `name:value\\n`), signed header list, payload hash."""
    headers = "".join(f"{name}:{_header_value(request, name)}\n" for name in signed_headers)
    parts = (
        request.method,
        canonical_uri(request.path),
        canonical_query(request.query, presigned=presigned),
        headers,
        ";".join(signed_headers),
        payload_hash,
    )
    return "\n".join(parts)


def canonical_uri(raw_path: str) -> str:
    """Remove `.`, `..` and empty segments, then URI-encode each received segment again."""
    segments: list[str] = []
    for segment in raw_path.split("/"):
        if segment == "..":
            segments = segments[:-1]
        elif segment not in ("", "."):
            segments.append(quote(segment, safe=_UNRESERVED))
    trailing = "/" if raw_path.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing


def canonical_query(raw_query: str, *, presigned: bool) -> str:
    """Decode, re-encode with the RFC 3986 unreserved set, sort by name then value."""
    pairs = [
        (quote(name, safe=_UNRESERVED), quote(value, safe=_UNRESERVED))
        for name, value in query_pairs(raw_query)
        if not (presigned and name == b"X-Amz-Signature")
    ]
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def _mismatch(message: str) -> SigV4Error:
    return SigV4Error("SignatureDoesNotMatch", message)


def _header_value(request: SignedRequest, name: str) -> str:
    value = request.header(name)
    if value is None:
        raise _mismatch(f"signed header `{name}` is not in the request")
    return " ".join(value.split())


def _check_scope(parsed: Parsed, services: Collection[str]) -> None:
    if ANY_SERVICE not in services and parsed.service not in services:
        wanted = ", ".join(f"'{name}'" for name in sorted(services))
        raise _mismatch(f"Credential should be scoped to correct service: {wanted}")
    if not parsed.region:
        raise _mismatch("Credential should be scoped to a valid region")
    if parsed.scope_date != parsed.amz_date[:8]:
        raise _mismatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{parsed.scope_date}' != '{parsed.amz_date[:8]}', "
            f"from '{parsed.amz_date}'",
        )


def _check_time(parsed: Parsed, now: datetime, max_skew: timedelta) -> None:
    """AWS allows 15 minutes of skew; a presigned URL lives until X-Amz-Expires instead."""
    skew, stamp = f"{max_skew.total_seconds() / 60:g} min.", parsed.amz_date
    if parsed.signed_at > now + max_skew:
        raise _mismatch(
            f"Signature not yet current: {stamp} is still later than "
            f"{_fmt(now + max_skew)} ({_fmt(now)} + {skew})"
        )
    if parsed.expires is None and parsed.signed_at < now - max_skew:
        raise _mismatch(
            f"Signature expired: {stamp} is now earlier than "
            f"{_fmt(now - max_skew)} ({_fmt(now)} - {skew})"
        )
    end = parsed.signed_at + timedelta(seconds=parsed.expires or 0)
    if parsed.expires is not None and now > end:
        message = f"Request has expired: valid until {_fmt(end)}, now {_fmt(now)}"
        raise SigV4Error("RequestExpired", message)


EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def _payload_hashes(request: SignedRequest, parsed: Parsed) -> tuple[str, ...]:
    """The payload hashes a valid signature may have used.

    A presigned URL carries no body; botocore signs it with `UNSIGNED-PAYLOAD`, other
    SDKs with the hash of the empty body, so both are tried, and only when the body is
    empty: judged by its hash, which `/v1/authorize` is given instead of the body (a
    presigned URL must never vouch for a body it did not sign).
    """
    computed = request.payload_sha256 or hashlib.sha256(request.body).hexdigest()
    declared = request.header("x-amz-content-sha256")
    if declared is None or "x-amz-content-sha256" not in parsed.signed_headers:
        if parsed.expires is not None and computed == EMPTY_BODY_SHA256:
            return (computed, UNSIGNED_PAYLOAD)
        return (computed,)
    return (_declared_hash(declared, computed, parsed),)


def _declared_hash(declared: str, computed: str, parsed: Parsed) -> str:
    if declared == UNSIGNED_PAYLOAD and parsed.expires is not None:
        if computed != EMPTY_BODY_SHA256:
            raise _mismatch("a presigned request with `UNSIGNED-PAYLOAD` must have no body")
        return UNSIGNED_PAYLOAD
    if declared != computed:
        rule = (
            "is accepted only for presigned query requests"
            if declared == UNSIGNED_PAYLOAD
            else f"does not match the sha256 of the body `{computed}`"
        )
        raise _mismatch(f"x-amz-content-sha256 `{declared}` {rule}")
    return computed


def _fmt(when: datetime) -> str:
    return when.astimezone(UTC).strftime(AMZ_DATE_FORMAT)
