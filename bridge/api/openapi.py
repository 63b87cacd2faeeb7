"""`GET /openapi.json`: the OpenAPI 3.1 description of the JSON API (`openapi.json` here)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from flask import Blueprint, Response, jsonify

openapi_blueprint = Blueprint("openapi", __name__)


@cache
def document() -> dict[str, Any]:
    """The document shipped with the package, read once per process."""
    text = resources.files("bridge.api").joinpath("openapi.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@openapi_blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())
