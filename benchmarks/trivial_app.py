"""The ceiling: a trivial Flask endpoint, served by gunicorn exactly as `bridge serve
--workers N` serves the bridge (same worker count, same access log to stdout)."""

from __future__ import annotations

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.route("/", methods=["GET", "POST"])
def trivial() -> Response:
    return jsonify(status="ok")
