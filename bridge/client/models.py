"""What the client sends to `/v1/authorize` and what it gets back, as frozen dataclasses.

The JSON shapes are those of the bridge's wire contract (`/openapi.json`): a caller is
either the SigV4-signed request as the service received it, or a bearer session token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

ContextValue = str | int | float | bool | Sequence[str | int | float | bool]
Context = Mapping[str, ContextValue]
DecisionName = Literal["allowed", "explicitDeny", "implicitDeny"]
_DECISIONS = ("allowed", "explicitDeny", "implicitDeny")
# headers forwarded even when not signed: they carry the signature and its inputs
_ALWAYS_FORWARDED = ("authorization", "host", "x-amz-date", "x-amz-security-token")
# what a client leaves unencoded in a path (RFC 3986 pchar minus `%`), used only when the
# server gives no raw request URI
_PATH_SAFE = "/!$&'()*+,;=:@~"


class BridgeError(Exception):
    """The bridge could not give a decision; the protected call must fail closed."""


class BridgeUnavailable(BridgeError):
    """The bridge could not be reached, timed out, or answered 5xx or garbage."""


class BridgeRefused(BridgeError):
    """The bridge refused the service's own call (401, 403, 400, 413): misconfiguration."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None) -> None:
        super().__init__(f"the bridge answered {status} `{code}`: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class SigV4Caller:
    """The caller's signed request exactly as the service received it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body_sha256: str

    def __repr__(self) -> str:  # the Authorization header and token stay out of logs
        return f"SigV4Caller(method={self.method!r}, path={self.path!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "sigv4": {
                "method": self.method,
                "path": self.path,
                "query": self.query,
                "headers": dict(self.headers),
                "body_sha256": self.body_sha256,
            }
        }

    @classmethod
    def from_wsgi(cls, environ: Mapping[str, Any], body: bytes) -> SigV4Caller:
        """From a WSGI environ and the exact body bytes: the raw path as sent, the query,
        and only the signed headers (plus those carrying the signature), so cookies and
        other credentials of the request are not forwarded to the bridge."""
        headers = wsgi_headers(environ)
        wanted = set(_ALWAYS_FORWARDED) | set(_signed_header_names(headers, environ))
        forwarded = {name: value for name, value in headers.items() if name.lower() in wanted}
        if not any(name.lower() == "host" for name in forwarded):
            forwarded["Host"] = _server_host(environ)
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=raw_path(environ),
            query=str(environ.get("QUERY_STRING", "")),
            headers=forwarded,
            body_sha256=hashlib.sha256(body).hexdigest(),
        )


@dataclass(frozen=True)
class BearerCaller:
    """A session token of temporary credentials, presented as `Authorization: Bearer`."""

    token: str

    def __repr__(self) -> str:
        return "BearerCaller(token=<redacted>)"

    def to_json(self) -> dict[str, Any]:
        return {"bearer": self.token}


Caller = SigV4Caller | BearerCaller


@dataclass(frozen=True)
class Check:
    """One question: may the caller perform `action` on `resource` with this context."""

    action: str
    resource: str
    context: Context | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"action": self.action, "resource": self.resource}
        if self.context:
            body["context"] = {key: _context_json(value) for key, value in self.context.items()}
        return body


@dataclass(frozen=True)
class Principal:
    """Who the caller is, as the bridge authenticated it."""

    arn: str
    type: str
    account_id: str
    principal_id: str
    access_key_id: str | None
    session_name: str | None = None
    source_identity: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    expiration: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Principal:
        expiration = data.get("expiration")
        return cls(
            arn=str(data["arn"]),
            type=str(data["type"]),
            account_id=str(data["account_id"]),
            principal_id=str(data["principal_id"]),
            access_key_id=_optional(data.get("access_key_id")),
            session_name=_optional(data.get("session_name")),
            source_identity=_optional(data.get("source_identity")),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
            expiration=_parse_time(expiration) if expiration else None,
        )


@dataclass(frozen=True)
class Match:
    """A statement that decided: the policy, its index, its Sid and effect."""

    policy: str
    statement: int
    sid: str | None
    effect: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Match:
        return cls(
            policy=str(data["policy"]),
            statement=int(data["statement"]),
            sid=_optional(data.get("sid")),
            effect=str(data["effect"]),
        )


@dataclass(frozen=True)
class Decision:
    """The bridge's answer for one action and resource."""

    decision: DecisionName
    reason: str | None
    error_code: str | None
    principal: Principal | None
    matched: tuple[Match, ...]
    missing_context: tuple[str, ...]
    request_id: str | None
    action: str = ""
    resource: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    def describe(self) -> str:
        """Why the call is refused, safe to show the caller (no policy contents)."""
        if self.reason:
            return self.reason
        who = f"`{self.principal.arn}`" if self.principal else "the caller"
        how = "an explicit deny" if self.decision == "explicitDeny" else "no allow"
        return f"{who} is not authorized to perform `{self.action}` on `{self.resource}` ({how})"


def decision_from_json(
    item: Mapping[str, Any], envelope: Mapping[str, Any], check: Check
) -> Decision:
    """A `Decision` from a result item and the response envelope (principal, reason)."""
    name = item.get("decision")
    if name not in _DECISIONS:
        raise ValueError(f"unknown decision `{name}`")
    principal = envelope.get("principal")
    return Decision(
        decision=name,
        reason=_optional(envelope.get("reason")),
        error_code=_optional(envelope.get("error_code")),
        principal=Principal.from_json(principal) if principal else None,
        matched=tuple(Match.from_json(m) for m in item.get("matched") or ()),
        missing_context=tuple(str(key) for key in item.get("missing_context") or ()),
        request_id=_optional(envelope.get("request_id")),
        action=check.action,
        resource=check.resource,
    )


def wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request headers from a WSGI environ (`HTTP_X_AMZ_DATE` → `X-Amz-Date`)."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = str(environ[key])
    return headers


def raw_path(environ: Mapping[str, Any]) -> str:
    """The path as the client sent it: `RAW_URI` or `REQUEST_URI` without the query,
    else `SCRIPT_NAME + PATH_INFO` percent-encoded again."""
    for key in ("RAW_URI", "REQUEST_URI"):
        uri = environ.get(key)
        if uri:
            path = str(uri).split("?", 1)[0]
            if "://" in path:  # absolute-form request target (RFC 9112 3.2.2)
                path = "/" + path.split("://", 1)[1].partition("/")[2]
            return path
    decoded = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    return quote(decoded.encode("latin-1"), safe=_PATH_SAFE) or "/"


def _signed_header_names(headers: Mapping[str, str], environ: Mapping[str, Any]) -> list[str]:
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    for part in authorization.replace(",", " ").split():
        if part.startswith("SignedHeaders="):
            return part.removeprefix("SignedHeaders=").split(";")
    for piece in str(environ.get("QUERY_STRING", "")).split("&"):
        name, _, value = piece.partition("=")
        if name == "X-Amz-SignedHeaders":
            return value.replace("%3B", ";").replace("%3b", ";").split(";")
    return []


def _server_host(environ: Mapping[str, Any]) -> str:
    name, port = str(environ.get("SERVER_NAME", "")), str(environ.get("SERVER_PORT", ""))
    default = {"http": "80", "https": "443"}.get(str(environ.get("wsgi.url_scheme")))
    return name if not port or port == default else f"{name}:{port}"


def _context_json(value: ContextValue) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    return list(value)


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
