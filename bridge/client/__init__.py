"""bridge.client: what an internal service installs to ask the bridge for decisions.

A client for `POST /v1/authorize` and a WSGI middleware. Standard library only, and
nothing of the server, so it can be installed alone.
"""

from bridge.client.client import AuthorizeClient
from bridge.client.middleware import AuthorizeMiddleware, Denial, Rule, json_denial
from bridge.client.models import (
    BearerCaller,
    BridgeError,
    BridgeRefused,
    BridgeUnavailable,
    Check,
    Decision,
    Match,
    Principal,
    SigV4Caller,
)

__all__ = [
    "AuthorizeClient",
    "AuthorizeMiddleware",
    "BearerCaller",
    "BridgeError",
    "BridgeRefused",
    "BridgeUnavailable",
    "Check",
    "Decision",
    "Denial",
    "Match",
    "Principal",
    "Rule",
    "SigV4Caller",
    "json_denial",
]
