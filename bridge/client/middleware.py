"""`AuthorizeMiddleware`: protect the routes of a WSGI app (Flask, Django) by action and
resource template, asking the bridge for every request.

Fail closed everywhere: a route without a rule is refused (403) unless
`allow_unmatched=True`; a request without credentials gets 401; a denial 403 with the
reason; a bridge that cannot be reached (or answers garbage) 503; a bridge that refuses
the service's own call (its keys or its `bridge:Authorize` permission are wrong) 500.
The caller's body is read (up to `max_body_bytes`), hashed for the SigV4 check and put
back as a fresh stream so the app reads it again.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.client.client import AuthorizeClient
from bridge.client.models import (
    BearerCaller,
    BridgeRefused,
    BridgeUnavailable,
    Caller,
    Context,
    Decision,
    SigV4Caller,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_STATUS = {
    401: "401 Unauthorized",
    403: "403 Forbidden",
    413: "413 Content Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
ContextFactory = Callable[["WSGIEnvironment", Mapping[str, str]], Context]


@dataclass(frozen=True)
class Rule:
    """`methods` (empty: any) and a path template (`/items/{item_id}`, each parameter one
    path segment) → the action and the resource template filled with the parameters."""

    methods: Sequence[str]
    path: str
    action: str
    resource: str
    context: ContextFactory | None = None
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pieces = _PARAMETER.split(self.path)
        regex = "".join(
            f"(?P<{piece}>[^/]+)" if odd else re.escape(piece)
            for odd, piece in ((i % 2 == 1, p) for i, p in enumerate(pieces))
        )
        object.__setattr__(self, "_pattern", re.compile(regex))
        object.__setattr__(self, "methods", tuple(m.upper() for m in self.methods))
        unknown = set(_PARAMETER.findall(self.resource)) - set(_PARAMETER.findall(self.path))
        if unknown:
            names = ", ".join(f"`{name}`" for name in sorted(unknown))
            raise ValueError(f"resource template `{self.resource}` uses {names}, not in the path")

    def covers(self, path: str) -> bool:
        """Whether the path template matches, whatever the method."""
        return self._pattern.fullmatch(path) is not None

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.methods and method.upper() not in self.methods:
            return None
        found = self._pattern.fullmatch(path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class Denial:
    """Why a request was refused: the HTTP status, an error code and a safe message."""

    status: int
    error: str
    message: str
    decision: Decision | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "message": self.message}
        if self.decision is not None:
            body["decision"] = self.decision.decision
            body["request_id"] = self.decision.request_id
        return body


OnDeny = Callable[[Denial, "WSGIEnvironment", "StartResponse"], Iterable[bytes]]


class AuthorizeMiddleware:
    """Wrap `app`: each request must match a rule and be allowed by the bridge."""

    def __init__(
        self,
        app: WSGIApplication,
        client: AuthorizeClient,
        rules: Sequence[Rule],
        *,
        on_deny: OnDeny | None = None,
        allow_unmatched: bool = False,
        max_body_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self._app = app
        self._client = client
        self._rules = tuple(rules)
        self._on_deny = on_deny or json_denial
        self._allow_unmatched = allow_unmatched
        self._max_body = max_body_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        outcome = self._judge(environ)
        if isinstance(outcome, Denial):
            return self._on_deny(outcome, environ, start_response)
        return self._app(environ, start_response)

    def _protects(self, path: str) -> bool:
        return any(rule.covers(path) for rule in self._rules)

    def _judge(self, environ: WSGIEnvironment) -> Denial | Decision | None:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = _text(str(environ.get("PATH_INFO", "")))
        found = self._route(method, path)
        if found is None:
            # `allow_unmatched` lets through paths no rule names; a path a rule protects is
            # never let through with another method (HEAD would run a GET view unchecked)
            if self._allow_unmatched and not self._protects(path):
                return None
            return Denial(403, "AccessDenied", f"no authorization rule for `{method} {path}`")
        rule, params = found
        caller = self._caller(environ)
        if isinstance(caller, Denial):
            return caller
        context = rule.context(environ, params) if rule.context else None
        resource = _fill(rule.resource, params)
        try:
            decision = self._client.authorize(caller, rule.action, resource, context)
        except BridgeUnavailable as exc:
            log.warning("authorization failed closed: %s", exc)
            return Denial(503, "ServiceUnavailable", "the authorization service is unavailable")
        except BridgeRefused as exc:
            log.error("the bridge refused this service's call: %s", exc)
            return Denial(500, "InternalFailure", "the authorization service refused this service")
        if not decision.allowed:
            return Denial(403, decision.error_code or "AccessDenied", decision.describe(), decision)
        environ["bridge.principal"] = decision.principal
        environ["bridge.decision"] = decision
        return decision

    def _route(self, method: str, path: str) -> tuple[Rule, dict[str, str]] | None:
        for rule in self._rules:
            params = rule.match(method, path)
            if params is not None:
                return rule, params
        return None

    def _caller(self, environ: WSGIEnvironment) -> Caller | Denial:
        authorization = str(environ.get("HTTP_AUTHORIZATION", "")).strip()
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return BearerCaller(rest.strip())
        if scheme == "AWS4-HMAC-SHA256" or "X-Amz-Signature=" in environ.get("QUERY_STRING", ""):
            body = self._read_body(environ)
            if body is None:
                return Denial(413, "RequestTooLarge", f"body over {self._max_body} bytes")
            return SigV4Caller.from_wsgi(environ, body)
        return Denial(401, "MissingAuthenticationToken", "request is missing credentials")

    def _read_body(self, environ: WSGIEnvironment) -> bytes | None:
        """The exact body; the stream is replaced so the app can read it again."""
        stream = environ.get("wsgi.input")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if stream is None:
            return b""
        if length > self._max_body:
            return None
        if length <= 0 and environ.get("wsgi.input_terminated"):
            body = stream.read(self._max_body + 1)
            if len(body) > self._max_body:
                return None
        else:
            body = stream.read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return bytes(body)


def json_denial(
    denial: Denial,
    environ: WSGIEnvironment,  # noqa: ARG001 (the `OnDeny` signature)
    start_response: StartResponse,
) -> Iterable[bytes]:
    """The default answer to a refused request: JSON `{"error", "message", ...}`."""
    payload = json.dumps(denial.body()).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    if denial.status == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="bridge"'))
    start_response(_STATUS.get(denial.status, f"{denial.status} Error"), headers)
    return [payload]


def _text(wsgi_string: str) -> str:
    """PEP 3333 strings are bytes decoded as latin-1; paths are sent as UTF-8."""
    return wsgi_string.encode("latin-1").decode("utf-8", errors="replace")


def _fill(template: str, params: Mapping[str, str]) -> str:
    return _PARAMETER.sub(lambda found: params[found.group(1)], template)
