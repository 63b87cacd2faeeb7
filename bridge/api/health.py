"""`/healthz` (the process answers) and `/readyz` (its dependencies answer).

Once a write was lost since the process started (audit events, last-accessed updates
that storage refused), `/readyz` also has `lost` (the counts) and `degraded` (what was
lost). Lost writes do not make the process unready, since decisions still answer: the
status stays `ready` (200). `audit` always has the audit queue's depth (events not
yet stored) and the events written and lost by this process.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify

from bridge.errors import StorageUnavailable

health_blueprint = Blueprint("health", __name__)


@health_blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@health_blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    services = current_app.extensions["bridge"]
    checks = {name: _check(ping) for name, ping in services.readiness_checks().items()}
    ready = all(value == "ok" for value in checks.values())
    audit = services.audit.stats()
    lost = {"audit_events": audit.lost, "last_accessed": services.last_access.failures}
    extra = {"lost": lost, "degraded": _degraded(lost)} if any(lost.values()) else {}
    queue = {"queue_depth": audit.queue_depth, "written": audit.written, "lost": audit.lost}
    body = jsonify(status="ready" if ready else "unavailable", checks=checks, audit=queue, **extra)
    return body, 200 if ready else 503


def _degraded(lost: dict[str, int]) -> list[str]:
    return [f"{n} {what.replace('_', ' ')} lost" for what, n in lost.items() if n]


def _check(ping: Callable[[], None]) -> str:
    try:
        ping()
    except StorageUnavailable as exc:
        return f"unavailable: {exc.message}"
    return "ok"
