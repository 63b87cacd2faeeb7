"""Structured audit events (CloudTrail-like), written as JSON lines.

Every sign-in, issuance and refusal is an event. Secrets never enter an event:
request parameters pass through `redact()` first. Sinks are pluggable; the default
writes one JSON object per line to the `bridge.audit` logger. (Storing events in the
database and `bridge audit query` come with the decision-service issue.)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

SECRET_PARAMETERS = frozenset(
    {
        "samlassertion",
        "webidentitytoken",
        "password",
        "oldpassword",
        "newpassword",
        "secretaccesskey",
        "sessiontoken",
        "tokencode",
        "authenticationcode1",
        "authenticationcode2",
        "policy",
    }
)


@dataclass(frozen=True)
class AuditEvent:
    time: datetime
    event_name: str  # e.g. AssumeRoleWithSAML, CreateUser, ConsoleLogin
    result: str  # "success" | "failure"
    request_id: str
    principal: str | None = None  # the caller's ARN, or the federated subject
    source_ip: str | None = None
    user_agent: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        record = asdict(self)
        record["time"] = self.time.isoformat()
        return json.dumps(record, sort_keys=True, default=str)


class AuditSink(Protocol):
    def write(self, event: AuditEvent) -> None: ...


class LoggingSink:
    """JSON lines on the `bridge.audit` logger (its handlers decide where they go)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("bridge.audit")

    def write(self, event: AuditEvent) -> None:
        self._logger.info(event.to_json())


class MemorySink:
    """Keeps events in a list (tests, and `bridge` commands that print what happened)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self._lock = threading.Lock()

    def write(self, event: AuditEvent) -> None:
        with self._lock:
            self.events.append(event)


class AuditLog:
    def __init__(self, *sinks: AuditSink) -> None:
        self._sinks = sinks or (LoggingSink(),)

    def record(self, event: AuditEvent) -> None:
        for sink in self._sinks:
            sink.write(event)


def redact(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters with every secret replaced, keys compared case-insensitively."""
    return {key: "***" if _is_secret(key) else value for key, value in parameters.items()}


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_PARAMETERS or lowered.endswith(("password", "secret", "token"))
