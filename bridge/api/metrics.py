"""`GET /metrics`: this app's counters in the Prometheus text format, and the hooks that
time every request by endpoint (the URL rule, so that paths cannot grow the label set)
and write its access line (without the query string) while its request id is bound."""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response, current_app, g, request

from bridge.services import Services

metrics_blueprint = Blueprint("metrics", __name__)
access_log = logging.getLogger("bridge.access")

UNMATCHED = "<unmatched>"  # the endpoint label of a request no URL rule matched
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@metrics_blueprint.get("/metrics")
def metrics() -> Response:
    services: Services = current_app.extensions["bridge"]
    body, content_type = services.metrics.render()
    return Response(body, status=200, content_type=content_type)


def install_request_metrics(app: Flask) -> None:
    """Count, time and log every request of `app` by URL rule, method and status."""

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = getattr(g, "metrics_started", None)
        if started is not None:
            services: Services = current_app.extensions["bridge"]
            rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
            elapsed = time.perf_counter() - started
            method = request.method if request.method in METHODS else "OTHER"
            services.metrics.request(rule, method, response.status_code, elapsed)
            access_log.info(
                "%s %s %s %.1fms", method, request.path, response.status_code, elapsed * 1000
            )
        return response
