"""A local IAM user in headless Chromium: password, then TOTP, the portal, a role, and
the credentials read from the page used with boto3 against the same live bridge.

The user, its login profile, its virtual MFA device and the role are created with
boto3 through the IAM Query API. With `BRIDGE_SCREENSHOTS_DIR` set, the chooser, the
portal and the credentials page are saved there (chooser.png, portal.png,
credentials.png); otherwise nothing is written.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyotp
import pytest

from tests.conftest import service_unavailable
from tests.e2e.live import REGION, LiveBridge

USER = "browser-alice"
PASSWORD = "Browser-Passw0rd-1"
ROLE = "browser-developer"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
_ENV = re.compile(r"export (AWS_[A-Z_]+)=(\S+)")


@pytest.fixture(scope="module")
def person(bridge: LiveBridge) -> tuple[str, str]:
    """The IAM user with a password and an enabled virtual MFA device: (role ARN, seed)."""
    iam = bridge.client("iam")
    user_arn = iam.create_user(UserName=USER)["User"]["Arn"]
    iam.create_login_profile(UserName=USER, Password=PASSWORD, PasswordResetRequired=False)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=USER)["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    seed = seed.decode() if isinstance(seed, bytes) else seed
    totp, now = pyotp.TOTP(seed), time.time()
    iam.enable_mfa_device(
        UserName=USER,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp.at(now - 30),
        AuthenticationCode2=totp.at(now),
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(trust),
        Description="Role picked in the browser test",
    )
    return str(role["Role"]["Arn"]), seed


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        service_unavailable("Chromium", f"not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("BRIDGE_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def _next_step_code(seed: str) -> str:
    """A code the bridge has not seen: the one for the next 30 s step (within its window)."""
    return str(pyotp.TOTP(seed).at(time.time() + 30))


def test_local_user_signs_in_with_totp_and_uses_the_credentials(
    bridge: LiveBridge, person: tuple[str, str], browser: Any
) -> None:
    role_arn, seed = person
    context = browser.new_context(viewport={"width": 1000, "height": 760})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(bridge.url + "/")
    page.wait_for_url(re.compile(r"/login$"))
    _shot(page, "chooser.png")
    page.get_by_role("link", name="Sign in with a user name and password").click()
    page.get_by_label("User name", exact=True).fill(USER)
    page.get_by_label("Password", exact=True).fill("Wrong-Passw0rd-9")
    page.get_by_role("button", name="Sign in").click()
    assert "incorrect user name or password" in page.inner_text("main")
    page.get_by_label("User name", exact=True).fill(USER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/login/mfa$"))
    page.get_by_label("MFA code").fill(_next_step_code(seed))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/portal$"))
    assert role_arn in page.inner_text("main")
    assert "Role picked in the browser test" in page.inner_text("main")
    _shot(page, "portal.png")
    page.get_by_label(re.compile(ROLE)).check()
    page.get_by_label("Profile name for the AWS CLI").fill("browser")
    page.get_by_role("button", name="Get credentials").click()
    page.wait_for_url(re.compile(r"/portal/assume$"))
    _shot(page, "credentials.png")
    env = dict(_ENV.findall(page.inner_text("#env")))
    assert "credential_process = bridge credential-process" in page.inner_text("#process")
    context.close()

    sts = boto3.client(
        "sts",
        endpoint_url=bridge.url,
        region_name=REGION,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )
    identity = sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::123456789012:assumed-role/{ROLE}/{USER}"
