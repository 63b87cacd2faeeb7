"""A live bridge with `BRIDGE_AUDIT_STREAM` set writes every audit event as one JSON line
to that file (besides the database), secrets redacted."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live import LiveBridge, clean_env, start_bridge

STREAM = "audit-events.jsonl"


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    home = tmp_path_factory.mktemp("audit-stream") / "home"
    yield from start_bridge(home, clean_env({"BRIDGE_AUDIT_STREAM": STREAM}))


def _events(path: Path, name: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            found = [json.loads(line) for line in lines if f'"{name}"' in line]
            if found:
                return found
        time.sleep(0.1)
    return []


def test_iam_calls_reach_the_audit_stream(bridge: LiveBridge) -> None:
    iam = bridge.client("iam")
    iam.create_user(UserName="streamed")
    iam.create_login_profile(UserName="streamed", Password="Streamed-Secret-123!")
    created = _events(bridge.home / STREAM, "CreateUser")
    assert created
    assert created[0]["parameters"]["UserName"] == "streamed"
    profile = _events(bridge.home / STREAM, "CreateLoginProfile")
    assert profile
    assert "Streamed-Secret-123!" not in (bridge.home / STREAM).read_text(encoding="utf-8")
