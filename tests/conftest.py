"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def service_unavailable(what: str, reason: str) -> None:
    """Skip a test needing a real service, except in CI where it must run: fail there."""
    message = f"{what} is not reachable ({reason})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run this test against the real service")
    pytest.skip(message)


REPOSITORY = Path(__file__).resolve().parents[1]


def peers_dir() -> Path:
    """The real identity-provider peers: `$BRIDGE_PEERS_DIR`, else `../shared/peers` beside
    the checkout (where the workplace and CI lay them)."""
    configured = os.environ.get("BRIDGE_PEERS_DIR")
    return Path(configured) if configured else REPOSITORY.parent / "shared" / "peers"
