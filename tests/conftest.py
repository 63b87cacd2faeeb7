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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a live bridge's log holds a secret the tests gave it."""
    from tests.support.secret_scan import scan

    findings = scan()
    if findings:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for finding in findings:
            if reporter is not None:
                reporter.write_line(f"SECRET IN LOG: {finding}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
