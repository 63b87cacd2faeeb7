"""Secrets must never reach a log: every live bridge's log of the whole test run is
scanned, at the end of the session, for every secret the tests handed it.

Tests register what they know is secret (`remember_secret`: admin secret access keys,
passwords of test users) and each server log they write (`remember_log`);
`tests/conftest.py` scans them when the session finishes and fails the run on a hit.
"""

from __future__ import annotations

from pathlib import Path

# Test fixture secrets used across the suite, besides the per-bridge admin keys.
KNOWN_SECRETS = {"alice-pass", "bob-pass", "carol-pass", "bridge-secret", "Correct-Horse-42!"}
MIN_LENGTH = 8  # shorter strings would match by chance

_secrets: set[str] = set(KNOWN_SECRETS)
_logs: set[Path] = set()


def remember_secret(secret: str) -> None:
    if len(secret) >= MIN_LENGTH:
        _secrets.add(secret)


def remember_log(path: Path) -> None:
    _logs.add(path)


def scan(logs: set[Path] | None = None, secrets: set[str] | None = None) -> list[str]:
    """`<log>: contains <first 4 characters>…` for every secret found in a log (by
    default the registered logs and secrets)."""
    findings = []
    for log in sorted(_logs if logs is None else logs):
        try:
            text = log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found = sorted(s for s in (_secrets if secrets is None else secrets) if s in text)
        findings.extend(f"{log}: contains {s[:4]}…" for s in found)
    return findings
