"""Fixtures shared by every test folder."""

from __future__ import annotations

import os

import pytest


def service_unavailable(what: str, reason: str) -> None:
    """Skip a test needing a real service, except in CI where it must run: fail there."""
    message = f"{what} is not reachable ({reason})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must run this test against the real service")
    pytest.skip(message)
