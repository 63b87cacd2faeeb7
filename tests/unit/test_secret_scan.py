"""The end-of-session scan finds a secret in a log and nothing in a clean one."""

from __future__ import annotations

from pathlib import Path

from tests.support.secret_scan import scan


def test_scan_reports_secrets_by_prefix_only(tmp_path: Path) -> None:
    leaky, clean = tmp_path / "leaky.log", tmp_path / "clean.log"
    leaky.write_text('{"message": "key wJalrXUtnFEMI/K7MDENG"}\n')
    clean.write_text('{"message": "key ***"}\n')
    findings = scan({leaky, clean}, {"wJalrXUtnFEMI/K7MDENG"})
    assert findings == [f"{leaky}: contains wJal…"]
    assert scan({clean, tmp_path / "missing.log"}, {"wJalrXUtnFEMI/K7MDENG"}) == []
