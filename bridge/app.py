"""The Flask application factory: settings → services → blueprints → error handlers."""

from __future__ import annotations

import logging
import uuid

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from bridge.api.authorize import authorize_blueprint
from bridge.api.health import health_blueprint
from bridge.api.metrics import install_request_metrics, metrics_blueprint
from bridge.api.openapi import openapi_blueprint
from bridge.idp_files import sync_metadata_files
from bridge.logging_setup import bind_request_id, unbind_request_id
from bridge.login.blueprint import login_blueprint
from bridge.login.cli_auth import cli_auth_blueprint
from bridge.login.federated import federated_blueprint
from bridge.query.blueprint import query_blueprint
from bridge.services import Services, build_services
from bridge.settings import Settings, load_settings

log = logging.getLogger("bridge")


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """Build one app with its own services (tests build one per test)."""
    if services is None:
        services = build_services(settings or load_settings())
    loaded = sync_metadata_files(services.directory, services.settings.effective_idp_metadata_dir)
    for arn in loaded:
        log.info("SAML provider %s loaded from its metadata file", arn)
    services.federation  # noqa: B018 - at start: the SP key pair, and loud insecure settings
    app = Flask("bridge")
    app.config["MAX_CONTENT_LENGTH"] = services.settings.max_request_bytes
    app.extensions["bridge"] = services
    app.register_blueprint(health_blueprint)
    app.register_blueprint(authorize_blueprint)
    app.register_blueprint(openapi_blueprint)
    app.register_blueprint(query_blueprint)
    app.register_blueprint(login_blueprint)
    app.register_blueprint(federated_blueprint)
    app.register_blueprint(cli_auth_blueprint)
    app.register_blueprint(metrics_blueprint)
    install_request_metrics(app)
    _install_request_id(app)
    _install_error_handlers(app)
    return app


def services_of(app: Flask) -> Services:
    services = app.extensions["bridge"]
    assert isinstance(services, Services)  # noqa: S101 - invariant set by create_app
    return services


def _install_request_id(app: Flask) -> None:
    @app.before_request
    def _assign() -> None:
        g.request_id = str(uuid.uuid4())
        g.log_binding = bind_request_id(g.request_id)  # every log line of the request

    @app.after_request
    def _stamp(response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = getattr(g, "request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.teardown_request
    def _unbind(_exc: BaseException | None) -> None:
        binding = g.pop("log_binding", None)
        if binding is not None:
            unbind_request_id(binding)


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> tuple[Response, int]:
        code = exc.code or 500
        return jsonify(error=exc.name, message=exc.description or "", request_id=_rid()), code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error, request id %s", _rid(), exc_info=exc)
        body = jsonify(error="InternalFailure", message="internal error", request_id=_rid())
        return body, 500


def _rid() -> str:
    rid = getattr(g, "request_id", None) if request else None
    return str(rid or "")
