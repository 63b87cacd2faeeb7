"""`bridge login` (device code and loopback redirect) and `bridge credential-process`, end to
end: a live bridge, the person approving in headless Chromium after signing in as an IAM
user, and the AWS CLI getting credentials through `credential_process`.

(The same flows through the real OpenID provider peer are in
`test_e2e_browser_federated.py`.)"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_unavailable
from tests.e2e.live import LiveBridge

USER = "cli-person"
PASSWORD = "Correct-Horse-42!"  # test fixture password
ROLE = "cli-reader"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def role_arn(bridge: LiveBridge) -> str:
    iam = bridge.client("iam")
    iam.create_user(UserName=USER)
    iam.create_login_profile(UserName=USER, Password=PASSWORD, PasswordResetRequired=False)
    user_arn = iam.get_user(UserName=USER)["User"]["Arn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        service_unavailable(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def _sign_in_page(browser: Any, url: str) -> Any:
    """A new browser context, signed in to the portal as the IAM user, left on `url`."""
    page = browser.new_context().new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    page.wait_for_url(re.compile(r"/login"))
    if "/login/local" not in page.url:
        page.click("a[href^='/login/local']")
    page.fill("#user_name", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return page


def _cli_env(bridge: LiveBridge, cli_dir: Path) -> dict[str, str]:
    return {**bridge.env, "BRIDGE_CLI_DIR": str(cli_dir)}


@contextmanager
def _login(bridge: LiveBridge, env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    """`bridge login` running in the background; killed and its pipes closed afterwards."""
    command = [sys.executable, "-m", "bridge", "login", "--url", bridge.url, "--profile", "t"]
    with subprocess.Popen(
        [*command, *args], env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            yield process
        finally:
            process.kill()


def _verification_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"\(or open (\S+)\)", line)
        if found:
            return found.group(1)
    pytest.fail("bridge login printed no verification URL")


def _aws(bridge: LiveBridge, env: dict[str, str], config: Path, *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--endpoint-url", bridge.url, "--output", "json"],
        env={**env, "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_device_flow_then_aws_cli_through_credential_process(
    bridge: LiveBridge, role_arn: str, browser: Any, tmp_path: Path
) -> None:
    env = _cli_env(bridge, tmp_path / "cli")
    with _login(bridge, env, "--no-browser") as login:
        page = _sign_in_page(browser, _verification_url(login))
        page.wait_for_url(re.compile(r"/device\?user_code="))
        page.click("#approve")
        assert "approved" in page.inner_text("#cli-result")
        assert login.wait(timeout=30) == 0
        page.context.close()
    session_file = tmp_path / "cli" / "sessions" / "t.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600

    config = tmp_path / "aws-config"
    process = f"{sys.executable} -m bridge credential-process --role {role_arn} --profile t"
    config.write_text(
        f"[profile p]\nregion = eu-west-1\ncredential_process = {process}\n", encoding="utf-8"
    )
    identity = _aws(bridge, env, config, "sts", "get-caller-identity", "--profile", "p")
    assert identity["Arn"].endswith(f":assumed-role/{ROLE}/{USER}")
    cached = list((tmp_path / "cli" / "cache").glob("t-*.json"))
    assert len(cached) == 1
    assert stat.S_IMODE(cached[0].stat().st_mode) == 0o600
    again = _aws(bridge, env, config, "sts", "get-caller-identity", "--profile", "p")
    assert again["Arn"] == identity["Arn"]
    assert json.loads(cached[0].read_text())["AccessKeyId"].startswith("ASIA")


def test_denied_device_code_fails_the_login(
    bridge: LiveBridge, role_arn: str, browser: Any, tmp_path: Path
) -> None:
    with _login(bridge, _cli_env(bridge, tmp_path / "cli"), "--no-browser") as login:
        page = _sign_in_page(browser, _verification_url(login))
        page.wait_for_url(re.compile(r"/device\?user_code="))
        page.click("#deny")
        assert "refused" in page.inner_text("#cli-result")
        assert login.wait(timeout=30) == 1
        assert login.stderr is not None
        assert "access_denied" in login.stderr.read()
        page.context.close()
    assert not (tmp_path / "cli" / "sessions" / "t.json").exists()


def test_loopback_flow_with_a_browser(
    bridge: LiveBridge, role_arn: str, browser: Any, tmp_path: Path
) -> None:
    """`$BROWSER` is a script that hands the URL to this test, which opens it in Chromium."""
    opened = tmp_path / "opened-url"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}.tmp && mv {opened}.tmp {opened}\n')
    script.chmod(0o700)
    env = {**_cli_env(bridge, tmp_path / "cli"), "BROWSER": str(script)}
    with _login(bridge, env) as login:
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        page = _sign_in_page(browser, opened.read_text())
        page.wait_for_url(re.compile(r"/oauth/authorize"))
        page.click("#approve")
        page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/callback"))
        assert login.wait(timeout=30) == 0
        page.context.close()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge",
            "credential-process",
            "--role",
            role_arn,
            "--profile",
            "t",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    credentials = json.loads(result.stdout)
    assert credentials["Version"] == 1
    assert set(credentials) >= {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}


def test_credential_process_without_sign_in_says_what_to_do(
    bridge: LiveBridge, role_arn: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge",
            "credential-process",
            "--role",
            role_arn,
            "--profile",
            "x",
        ],
        env=_cli_env(bridge, tmp_path / "cli"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "bridge login --profile x" in result.stderr
    assert result.stdout == ""


def _cli_api(bridge: LiveBridge, path: str, token: str | None, payload: Any = None) -> Any:
    from bridge.cli_signin import call

    url = f"{bridge.url}{path}"
    return (
        call(url, payload=payload, token=token) if payload is not None else call(url, token=token)
    )


def test_cli_api_needs_a_live_sign_in_and_checks_input(
    bridge: LiveBridge, role_arn: str, browser: Any, tmp_path: Path
) -> None:
    env = _cli_env(bridge, tmp_path / "cli")
    with _login(bridge, env, "--no-browser") as login:
        page = _sign_in_page(browser, _verification_url(login))
        page.wait_for_url(re.compile(r"/device\?user_code="))
        page.click("#approve")
        assert login.wait(timeout=30) == 0
        page.context.close()
    token = json.loads((tmp_path / "cli" / "sessions" / "t.json").read_text())["access_token"]
    roles = _cli_api(bridge, "/v1/cli/roles", token)
    assert roles.status == 200
    assert [r["role_arn"] for r in roles.body["roles"]] == [role_arn]
    cases = [
        (None, {"role_arn": role_arn}, 401),
        ("not-a-token", {"role_arn": role_arn}, 401),
        (token, {}, 400),
        (token, {"role_arn": role_arn, "duration_seconds": 60}, 400),
        (token, {"role_arn": "arn:aws:iam::123456789012:role/other"}, 403),
    ]
    for sent_token, payload, status in cases:
        assert _cli_api(bridge, "/v1/cli/credentials", sent_token, payload).status == status
    issued = _cli_api(
        bridge, "/v1/cli/credentials", token, {"role_arn": role_arn, "duration_seconds": 900}
    )
    assert issued.status == 200
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "logout", "--profile", "t"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _cli_api(bridge, "/v1/cli/roles", token).status == 401
