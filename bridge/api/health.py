"""`/healthz` (the process answers) and `/readyz` (its dependencies answer)."""

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
    body = jsonify(status="ready" if ready else "unavailable", checks=checks)
    return body, 200 if ready else 503


def _check(ping: Callable[[], None]) -> str:
    try:
        ping()
    except StorageUnavailable as exc:
        return f"unavailable: {exc.message}"
    return "ok"
