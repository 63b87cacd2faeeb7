"""Reading the audit trail of a live bridge: its events are stored by a writer thread
within about 200 ms of the request, so a reader polls until the ones it expects are in."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.e2e.live import LiveBridge

Events = list[dict[str, Any]]


def audit_events(
    bridge: LiveBridge, event: str, ready: Callable[[Events], bool], limit: float = 10.0
) -> Events:
    """`bridge audit query --event EVENT` as dicts, once `ready(events)` holds (the last
    answer past `limit` seconds, for the caller's assertions to explain)."""
    deadline = time.monotonic() + limit
    while True:
        found = bridge.cli("audit", "query", "--event", event, "--format", "json")
        assert found.returncode == 0, found.stderr
        events = [json.loads(line) for line in found.stdout.splitlines() if line.strip()]
        if ready(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.1)
