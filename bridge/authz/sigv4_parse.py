"""Read a SigV4 signature from a request: the Authorization header or the presigned query.

Only the shape is checked here (algorithm, required fields, credential scope form, signed
header list, dates, expiry); `sigv4.verify` checks the scope, the time and the signature.
Errors carry AWS's codes (`reason`) and messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from types import MappingProxyType
from urllib.parse import unquote_to_bytes

from bridge.errors import AuthenticationFailed

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_PRESIGNED_EXPIRES = 604800
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_CREDENTIAL = re.compile(r"[^/]+/\d{8}/[^/]*/[^/]+/aws4_request")
_QUERY_REQUIRED = (
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)


class SigV4Error(AuthenticationFailed):
    """A SigV4 check failed; `reason` (also `code`) is the AWS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)

    @property
    def code(self) -> str:
        return self.reason


@dataclass(frozen=True)
class SignedRequest:
    """A request as received: raw path and query, headers, exact body bytes.

    `payload_sha256` (hex) stands for the body when only its hash is known, as when an
    internal service passes on a request it received (`/v1/authorize`)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""
    payload_sha256: str | None = None

    def __post_init__(self) -> None:
        lowered: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
        object.__setattr__(self, "headers", MappingProxyType(lowered))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Parsed:
    """The signature's fields, from the Authorization header or the query parameters."""

    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    signed_at: datetime
    security_token: str | None
    expires: int | None  # None for the Authorization header form

    @cached_property
    def amz_date(self) -> str:
        return self.signed_at.strftime(AMZ_DATE_FORMAT)

    @property
    def scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{TERMINATOR}"


def query_pairs(raw_query: str) -> list[tuple[bytes, bytes]]:
    """The raw query's name=value pairs, percent-decoded to bytes, in order."""
    pairs: list[tuple[bytes, bytes]] = []
    for piece in raw_query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((unquote_to_bytes(name), unquote_to_bytes(value)))
    return pairs


def _incomplete(message: str) -> SigV4Error:
    return SigV4Error("IncompleteSignature", message)


def parse(request: SignedRequest) -> Parsed:
    """The signature's fields, from exactly one of the header and the query forms."""
    authorization = request.header("authorization")
    params: dict[str, list[str]] = {}
    for name, value in query_pairs(request.query):
        params.setdefault(name.decode(errors="replace"), []).append(value.decode(errors="replace"))
    if authorization is None and "X-Amz-Algorithm" not in params:
        raise SigV4Error("MissingAuthenticationToken", "Request is missing Authentication Token")
    if authorization is not None and "X-Amz-Algorithm" in params:
        raise _incomplete(
            "only one auth mechanism allowed: the Authorization header "
            "or the `X-Amz-Algorithm` query parameter, not both"
        )
    if authorization is not None:
        return _parse_header(request, authorization, params)
    return _parse_query(params)


def _parse_header(
    request: SignedRequest, authorization: str, params: dict[str, list[str]]
) -> Parsed:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"unsupported AWS 'algorithm' `{algorithm}`, expected `{ALGORITHM}`")
    fields = _auth_fields(rest)
    missing = [
        name for name in ("Credential", "SignedHeaders", "Signature") if not fields.get(name)
    ]
    if missing:
        needed = ", ".join(f"'{name}'" for name in missing)
        raise _incomplete(f"Authorization header requires {needed} parameter")
    signed = _signed_headers(fields["SignedHeaders"], "SignedHeaders")
    token = request.header("x-amz-security-token")
    if token is not None and "x-amz-security-token" not in signed:
        raise _incomplete("the `x-amz-security-token` header must be among the signed headers")
    return _scoped(
        fields["Credential"],
        signed,
        fields["Signature"],
        _header_date(request, signed),
        token if token is not None else _param(params, "X-Amz-Security-Token"),
        None,
    )


def _parse_query(params: dict[str, list[str]]) -> Parsed:
    algorithm = _param(params, "X-Amz-Algorithm")
    if algorithm != ALGORITHM:
        raise _incomplete(f"unsupported X-Amz-Algorithm `{algorithm}`, expected `{ALGORITHM}`")
    missing = [name for name in _QUERY_REQUIRED if not _param(params, name)]
    if missing:
        raise _incomplete(f"AWS query-string parameters must include {', '.join(missing)}")
    found = {name: _param(params, name) or "" for name in _QUERY_REQUIRED}
    return _scoped(
        found["X-Amz-Credential"],
        _signed_headers(found["X-Amz-SignedHeaders"], "X-Amz-SignedHeaders"),
        found["X-Amz-Signature"],
        _amz_date(found["X-Amz-Date"]),
        _param(params, "X-Amz-Security-Token"),
        _expires(found["X-Amz-Expires"]),
    )


def _auth_fields(rest: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


def _param(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise _incomplete(f"query parameter `{name}` appears more than once")
    return values[0] if values else None


def _scoped(
    credential: str,
    signed: tuple[str, ...],
    signature: str,
    signed_at: datetime,
    token: str | None,
    expires: int | None,
) -> Parsed:
    parts = credential.split("/")
    if not _CREDENTIAL.fullmatch(credential):
        raise _incomplete(
            f"credential `{credential}` is not of the form "
            f"`<access key id>/<yyyymmdd>/<region>/<service>/{TERMINATOR}`"
        )
    key, date, region, service, _ = parts
    return Parsed(key, date, region, service, signed, signature, signed_at, token, expires)


def _signed_headers(value: str, field: str) -> tuple[str, ...]:
    names = tuple(value.split(";"))
    if not all(names):
        raise _incomplete(f"{field} `{value}` has an empty header name")
    if "host" not in names:
        raise _incomplete(f"{field} `{value}` must include `host`")
    return names


def _header_date(request: SignedRequest, signed: tuple[str, ...]) -> datetime:
    for name, parse in (("x-amz-date", _amz_date), ("date", _http_date)):
        value = request.header(name)
        if value is not None:
            if name not in signed:
                raise _incomplete(f"the `{name}` header must be among the signed headers")
            return parse(value)
    raise _incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header"
    )


def _amz_date(value: str) -> datetime:
    if not _AMZ_DATE.fullmatch(value):
        raise _incomplete(f"X-Amz-Date `{value}` must be in ISO-8601 basic format yyyyMMddTHHmmssZ")
    try:  # the shape is checked: slicing is much cheaper than strptime, per request
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise _incomplete(f"X-Amz-Date `{value}` is not a valid date and time") from exc


def _http_date(value: str) -> datetime:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise _incomplete(f"Date header `{value}` is not an RFC 7231 date") from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _expires(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_PRESIGNED_EXPIRES:
        raise _incomplete(
            f"X-Amz-Expires `{value}` must be a whole number of seconds "
            f"from 1 to {MAX_PRESIGNED_EXPIRES}"
        )
    return int(value)
