"""`POST /v1/authorize`: internal services ask whether their caller may act (thin edge).

The asking service signs its request with its own IAM credentials (SigV4, signing
service name `bridge`) and needs `bridge:Authorize` on every resource it asks about.
Its body is read by `authorize_input`, judged by `bridge.authz.judge.Judge`, rendered
by `authorize_output`. Answers: 200 with the decisions (a caller that cannot be
authenticated is an `implicitDeny` with the reason), 400 `ValidationError` naming the
field, 401 when the asking service is not authenticated, 403 `AccessDenied` without
`bridge:Authorize`, 413 for a body over `max_request_bytes`, 503 when storage is down.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from bridge.api.authorize_input import AuthorizeInput, parse_body
from bridge.api.authorize_output import render
from bridge.audit import AuditEvent
from bridge.authz.decide import RequestFacts
from bridge.authz.judge import EVENT_NAME, Asker
from bridge.authz.principal import Caller
from bridge.authz.sigv4 import SignedRequest
from bridge.errors import AuthenticationFailed, InvalidInput, StorageUnavailable
from bridge.services import Services

log = logging.getLogger("bridge.api.authorize")

authorize_blueprint = Blueprint("authorize", __name__)
SIGNING_SERVICE = "bridge"
PERMISSION = "bridge:Authorize"


@authorize_blueprint.post("/v1/authorize")
def authorize() -> tuple[Response, int]:
    services: Services = current_app.extensions["bridge"]
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return _error(413, "RequestEntityTooLarge", "the request body is too large")
    try:
        return _answer(services, body)
    except AuthenticationFailed as exc:
        return _error(401, exc.reason, exc.message)
    except InvalidInput as exc:
        return _error(400, "ValidationError", exc.message)
    except StorageUnavailable as exc:
        log.error("storage unavailable, request id %s: %s", _rid(), exc.message)
        return _error(503, "ServiceUnavailable", "storage is unavailable, try again")


def _answer(services: Services, body: bytes) -> tuple[Response, int]:
    facts = RequestFacts(
        now=services.clock.now(),
        source_ip=request.remote_addr,
        secure_transport=request.is_secure,
        user_agent=request.headers.get("User-Agent"),
    )
    asker = services.authenticator.authenticate(
        _signed(body), now=facts.now, services=(SIGNING_SERVICE,)
    )
    parsed = parse_body(_json(body))
    refused = _refused_resource(services, asker, parsed, facts)
    if refused is not None:
        message = (
            f"User: {asker.arn} is not authorized to perform: {PERMISSION} on resource: {refused}"
        )
        _audit_refusal(services, asker, refused, message, facts)
        return _error(403, "AccessDenied", message)
    judgement = services.judge.judge(parsed.subject, parsed.questions, Asker(asker.arn, _rid()))
    return jsonify(render(judgement, batch=parsed.batch, request_id=_rid())), 200


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("body", f"is not valid JSON: {exc}") from None


def _refused_resource(
    services: Services, asker: Caller, parsed: AuthorizeInput, facts: RequestFacts
) -> str | None:
    """The first resource asked about on which the service lacks `bridge:Authorize`."""
    for resource in dict.fromkeys(q.resource for q in parsed.questions):
        if not services.authorizer.decide(asker, PERMISSION, resource, facts).allowed:
            return resource
    return None


def _audit_refusal(
    services: Services, asker: Caller, resource: str, message: str, facts: RequestFacts
) -> None:
    services.audit.record(
        AuditEvent(
            time=facts.now,
            event_name=EVENT_NAME,
            result="failure",
            request_id=_rid(),
            principal=asker.arn,
            source_ip=facts.source_ip,
            user_agent=facts.user_agent,
            error_code="AccessDenied",
            error_message=message,
            details={"service": asker.arn, "resource": resource, "refused": PERMISSION},
        )
    )


def _signed(body: bytes) -> SignedRequest:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    joined: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        joined.setdefault(name.lower(), []).append(value)
    return SignedRequest(
        method=request.method,
        path=str(raw).split("?", 1)[0] if raw else request.path,
        query=request.query_string.decode("latin-1"),
        headers={name: ",".join(values) for name, values in joined.items()},
        body=body,
    )


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error=code, message=message, request_id=_rid()), status


def _rid() -> str:
    return str(getattr(g, "request_id", ""))
