"""`bridge report` on a real home made by `bridge init`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.bootstrap import initialise_home
from bridge.report_cli import report
from bridge.services import build_services
from bridge.settings import load_settings
from tests.unit.directory.directory_support import totp_code

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    initialise_home(path, account_id=ACCOUNT, force=False, environ={})
    return path


def run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(report, ["--home", str(home), *args])
    return result.exit_code, result.output


def findings(home: Path, *args: str) -> tuple[int, list[dict[str, str]]]:
    code, output = run(home, "--format", "json", *args)
    return code, json.loads(output)["findings"]


def add_console_user(home: Path) -> None:
    services = build_services(load_settings(home))
    try:
        services.directory.users.create("bob")
        services.directory.login_profiles.create("bob", "Correct-horse-battery-9")
    finally:
        services.close()


def test_a_fresh_home_flags_only_the_root_account_without_mfa(home: Path) -> None:
    code, found = findings(home)
    assert code == 1
    assert [(f["check"], f["severity"], f["subject"]) for f in found] == [
        ("root-mfa", "high", ROOT)
    ]


def test_a_console_user_without_mfa_is_flagged_too(home: Path) -> None:
    add_console_user(home)
    code, found = findings(home)
    assert code == 1
    assert [(f["check"], f["subject"]) for f in found] == [
        ("root-mfa", ROOT),
        ("user-console-mfa", BOB),
    ]
    assert "user `bob` has a console password and no MFA device" in found[1]["message"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), {"root-mfa"}),
        (("--key-age-days", "0"), {"root-mfa"}),
        (("--unused-days", "0"), {"root-mfa"}),
    ],
    ids=["defaults", "zero-key-age-is-not-exceeded-the-same-day", "zero-unused-days"],
)
def test_thresholds_are_options(home: Path, args: tuple[str, ...], expected: set[str]) -> None:
    _, found = findings(home, *args)
    assert {f["check"] for f in found} == expected


def test_text_output_lists_each_finding_and_a_count(home: Path) -> None:
    code, output = run(home)
    assert code == 1
    assert ROOT in output
    assert "the root account has no MFA device" in output
    assert output.rstrip().endswith("1 finding")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "xml"), "xml"),
        (("--key-age-days", "-1"), "-1"),
        (("--unused-days", "many"), "many"),
    ],
    ids=["unknown-format", "negative-days", "non-numeric-days"],
)
def test_bad_options_are_usage_errors(home: Path, args: tuple[str, ...], message: str) -> None:
    code, output = run(home, *args)
    assert code == 2
    assert message in output


def enable_root_mfa(home: Path) -> None:
    services = build_services(load_settings(home))
    try:
        created = services.directory.mfa.create_virtual("root-phone")
        seed, serial = created.seed_base32, created.device.serial_number
        step = int(services.clock.now().timestamp()) // 30
        codes = totp_code(seed, step), totp_code(seed, step + 1)
        services.directory.mfa.enable(None, serial, *codes)
    finally:
        services.close()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("text", "no findings\n"), ("json", '{\n  "findings": []\n}\n')],
    ids=["text", "json"],
)
def test_no_findings_exit_zero(home: Path, fmt: str, expected: str) -> None:
    enable_root_mfa(home)
    assert run(home, "--format", fmt) == (0, expected)
