"""`POST /` (and `GET /` with a query string): the AWS Query API for IAM and STS.

Dispatch on `Version` and `Action`; authenticate with SigV4 (hashing the exact body
bytes before the form is parsed); parse typed parameters; authorize IAM actions with
the policy engine; run the handler; render XML. Every error goes through the one
table in `query/errors.py`.
"""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from bridge.audit import AuditEvent, redact
from bridge.authz.decide import RequestFacts
from bridge.authz.principal import Caller
from bridge.authz.sigv4 import SignedRequest
from bridge.errors import AccessDenied, BridgeError
from bridge.query import params as query_params
from bridge.query.actions import VERSIONS
from bridge.query.errors import INTERNAL, QueryError, WireError, to_wire
from bridge.query.registry import Action, ActionContext, Registry
from bridge.query.xml import render_error, render_success
from bridge.ratelimit import check_sts_rate
from bridge.services import Services

log = logging.getLogger("bridge.query")

query_blueprint = Blueprint("query", __name__)

SIGNING_PARAMS = ("X-Amz-",)


@query_blueprint.route("/", methods=["POST", "GET"])
def endpoint() -> Response:
    request_id = getattr(g, "request_id", None) or str(uuid.uuid4())
    service = "iam"
    try:
        body = request.get_data(cache=True)
        raw = _flat_params()
        registry, action = _dispatch(raw)
        service = registry.service
        return _run(registry, action, raw, body, request_id)
    except RequestEntityTooLarge:
        wire = WireError("RequestEntityTooLarge", 413, "the request body is too large")
        return _error(service, wire, request_id)
    except BridgeError as exc:
        mapped = to_wire(exc)
        if mapped is None:
            log.exception("unmapped error, request id %s", request_id)
        return _error(service, mapped or INTERNAL, request_id)


def _flat_params() -> dict[str, str]:
    """POST form fields, or the query string of a GET; never the SigV4 query parameters."""
    source = request.form if request.method == "POST" else request.args
    return {key: value for key, value in source.items() if not key.startswith(SIGNING_PARAMS)}


def _dispatch(raw: dict[str, str]) -> tuple[Registry, Action]:
    version, name = raw.get("Version"), raw.get("Action")
    if not name:
        raise QueryError("MissingAction", "the request must contain the parameter Action")
    if not version:
        raise QueryError("MissingParameter", "the request must contain the parameter Version")
    registry = VERSIONS.get(version)
    action = registry.get(name) if registry else None
    if registry is None or action is None:
        raise QueryError("InvalidAction", f"Could not find operation {name} for version {version}")
    return registry, action


def _run(
    registry: Registry, action: Action, raw: dict[str, str], body: bytes, request_id: str
) -> Response:
    services: Services = current_app.extensions["bridge"]
    if not action.signed:  # before anything is verified: the unsigned STS actions
        check_sts_rate(services, request.remote_addr, action.name, raw)
    facts = RequestFacts(
        now=services.clock.now(),
        source_ip=request.remote_addr,
        secure_transport=request.is_secure,
        user_agent=request.headers.get("User-Agent"),
    )
    caller = _authenticate(services, registry, body, facts) if action.signed else None
    if caller is not None:
        refusal = caller.restrictions.refusal(registry.service, action.name)
        if refusal is not None:
            raise AccessDenied(refusal)
    ctx = ActionContext(services, services.authorizer, caller, request_id, facts)
    values = query_params.parse(raw, action.fields)
    try:
        if action.resource is not None:
            ctx.authorize(f"{registry.service}:{action.name}", action.resource(ctx, values))
        result = action.handler(ctx, values)
    except BridgeError as exc:
        _audit_iam(ctx, registry, action, values, exc)
        raise
    _audit_iam(ctx, registry, action, values, None)
    xml = render_success(
        registry.service, action.name, result, request_id, has_output=action.has_output
    )
    return Response(xml, status=200, content_type="text/xml")


def _audit_iam(
    ctx: ActionContext,
    registry: Registry,
    action: Action,
    values: dict[str, object],
    error: BridgeError | None,
) -> None:
    """Every IAM call, allowed or refused, is an audit event (STS actions record their own)."""
    if registry.service != "iam":
        return
    wire = to_wire(error) if error is not None else None
    ctx.services.audit.record(
        AuditEvent(
            time=ctx.facts.now,
            event_name=action.name,
            result="failure" if error is not None else "success",
            request_id=ctx.request_id,
            principal=ctx.caller.arn if ctx.caller else None,
            source_ip=ctx.facts.source_ip,
            user_agent=ctx.facts.user_agent,
            error_code=wire.code if wire else None,
            error_message=error.message if error is not None else None,
            parameters=redact(values),
        )
    )


def _authenticate(
    services: Services, registry: Registry, body: bytes, facts: RequestFacts
) -> Caller:
    signed = SignedRequest(
        method=request.method,
        path=_raw_path(),
        query=request.query_string.decode("latin-1"),
        headers=_headers(),
        body=body,
    )
    return services.authenticator.authenticate(signed, now=facts.now, services=(registry.service,))


def _headers() -> dict[str, str]:
    """Every header once, repeated values joined with "," as SigV4 canonicalises them."""
    joined: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        joined.setdefault(name.lower(), []).append(value)
    return {name: ",".join(values) for name, values in joined.items()}


def _raw_path() -> str:
    """The path as the client sent it (still percent-encoded), which SigV4 signed."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    return str(raw).split("?", 1)[0] if raw else request.path


def _error(service: str, wire: WireError, request_id: str) -> Response:
    current_app.extensions["bridge"].metrics.refusal(wire.code)
    xml = render_error(service, wire.kind, wire.code, wire.message, request_id)
    return Response(xml, status=wire.status, content_type="text/xml")


@query_blueprint.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    """A bug is a logged 500 `InternalFailure`; its detail stays in the log (CONVENTIONS 9)."""
    request_id = getattr(g, "request_id", "")
    log.error("internal failure, request id %s", request_id, exc_info=exc)
    return _error("iam", INTERNAL, request_id)
