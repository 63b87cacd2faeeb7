"""Federated sign-in in headless Chromium against the REAL peers (`../shared/peers`):
oidc-provider (OIDC code flow + PKCE) and SimpleSAMLphp (SP-initiated SAML with signed
AuthnRequests), a live bridge whose `bridge.yaml` has `login_providers` and `mapping`.

alice (groups staff, admins) signs in through each, picks a role in the portal, and the
credentials shown work with boto3 against the bridge; bob (staff) is offered only the
staff role; carol (no groups) sees why no role is offered. A fresh browser context per
person. With `BRIDGE_SCREENSHOTS_DIR` set, the federated chooser and portal are saved.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from tests.conftest import service_unavailable
from tests.e2e.live import HIGH_RATE_LIMITS, REGION, LiveBridge, clean_env
from tests.support.instances import wait_until_up
from tests.support.peer_process import (
    copy_peer,
    free_port,
    peer_user,
    require_peer,
    running_script,
)
from tests.support.saml_peer import EMAIL, running_saml_peer
from tests.support.secret_scan import remember_log, remember_secret

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
_ENV = re.compile(r"export (AWS_[A-Z_]+)=(\S+)")
OIDC, SAML = "peer-oidc", "peer-saml"
SAML_PROVIDER = "peer"


@dataclass(frozen=True)
class Setup:
    bridge: LiveBridge
    oidc_issuer: str


def _mapping() -> dict[str, Any]:
    return {
        "rules": [
            {
                "id": "staff",
                "providers": [OIDC, SAML],
                "when": {"claim": "groups", "contains": "staff"},
                "roles": ["fed-staff"],
            },
            {
                "id": "admins",
                "providers": [OIDC, SAML],
                "when": {"claim": "groups", "contains": "admins"},
                "roles": ["fed-admin"],
                "session_name": "{sub}",
            },
        ]
    }


@contextmanager
def _oidc_peer(workdir: Path, redirect_uri: str) -> Iterator[str]:
    """The OP on a free port that accepts the bridge's own callback as redirect_uri."""
    require_peer("the OIDC peer (oidc-provider)", "oidc", "node", "npm")
    app = copy_peer("oidc", workdir / "peers")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        "OIDC_PORT": str(port),
        "OIDC_ISSUER": issuer,
        "OIDC_REDIRECT_URIS": redirect_uri,
        "OIDC_RUN_DIR": str(workdir / "run"),
        "OIDC_REQUIRE_PKCE": "1",
    }
    with running_script("the OIDC peer (oidc-provider)", app, env):
        yield issuer


def _bridge_yaml(home: Path, issuer: str) -> None:
    extra = {
        "login_providers": {
            OIDC: {
                "protocol": "oidc",
                "display_name": "Peer OpenID",
                "issuer": issuer,
                "client_id": "bridge",
            },
            SAML: {
                "protocol": "saml",
                "display_name": "Peer SAML",
                "saml_provider": SAML_PROVIDER,
                "sign_requests": "always",
                "name_id_format": EMAIL,
            },
        },
        "mapping": _mapping(),
    }
    with (home / "bridge.yaml").open("a", encoding="utf-8") as config:
        config.write("\n" + yaml.safe_dump(extra))


def _run_bridge(home: Path, port: int, env: dict[str, str]) -> Iterator[LiveBridge]:
    import configparser

    log = home.parent / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", "--home", str(home), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, log)
        creds = configparser.ConfigParser()
        creds.read(home / "admin-credentials")
        default = creds["default"]
        remember_log(log)
        remember_secret(default["aws_secret_access_key"])
        yield LiveBridge(
            url, home, default["aws_access_key_id"], default["aws_secret_access_key"], env
        )
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _roles(bridge: LiveBridge, saml_arn: str, oidc_arn: str, host: str) -> None:
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"Federated": saml_arn},
            "Action": "sts:AssumeRoleWithSAML",
        },
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:aud": "bridge"}},
        },
    ]
    trust = json.dumps({"Version": "2012-10-17", "Statement": statements})
    iam = bridge.client("iam")
    for name in ("fed-staff", "fed-admin"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Description=f"{name} role")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("browser-federated")
    home = workdir / "home"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        {
            **HIGH_RATE_LIMITS,
            "BRIDGE_BASE_URL": base,
            "BRIDGE_LOGIN_PEER_OIDC_CLIENT_SECRET": "bridge-secret",
        }
    )
    init = subprocess.run(
        [sys.executable, "-m", "bridge", "init", "--home", str(home), "--account-id", ACCOUNT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    with ExitStack() as stack:
        issuer = stack.enter_context(_oidc_peer(workdir / "oidc", f"{base}/oidc/callback"))
        # the IdP requires AuthnRequests signed with the bridge's SP certificate
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("SAML_SP_CERT_FILE", str(home / "sp-cert.pem"))
        saml = stack.enter_context(
            running_saml_peer(workdir / "saml", f"{base}/saml/metadata", f"{base}/saml/acs")
        )
        _bridge_yaml(home, issuer)
        bridge = stack.enter_context(contextmanager(_run_bridge)(home, port, env))
        iam = bridge.client("iam")
        saml_arn = iam.create_saml_provider(Name=SAML_PROVIDER, SAMLMetadataDocument=saml.metadata)
        oidc = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["bridge"])
        host = issuer.split("://", 1)[1]
        _roles(bridge, saml_arn["SAMLProviderArn"], oidc["OpenIDConnectProviderArn"], host)
        yield Setup(bridge, issuer)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        service_unavailable("Chromium", f"not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        service_unavailable("playwright", str(exc))
        raise

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("BRIDGE_SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def _sign_in(browser: Any, setup: Setup, provider: str, username: str) -> tuple[Any, Any]:
    """A new browser context signed in to the portal through `provider` as `username`."""
    context = browser.new_context(viewport={"width": 1000, "height": 760})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(setup.bridge.url + "/login")
    if provider == OIDC and username == "alice":
        _shot(page, "chooser-federated.png")
    label = "Peer OpenID" if provider == OIDC else "Peer SAML"
    page.get_by_role("link", name=label).click()
    password = str(peer_user(username)["password"])
    page.wait_for_selector("#username")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit" if provider == OIDC else "#submit_button")
    page.wait_for_url(re.compile(r"/portal$"))
    return context, page


def _use_role(setup: Setup, page: Any, role: str) -> str:
    page.get_by_label(re.compile(role)).check()
    page.get_by_role("button", name="Get credentials").click()
    page.wait_for_url(re.compile(r"/portal/assume$"))
    env = dict(_ENV.findall(page.inner_text("#env")))
    sts = boto3.client(
        "sts",
        endpoint_url=setup.bridge.url,
        region_name=REGION,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
    )
    return str(sts.get_caller_identity()["Arn"])


@pytest.mark.parametrize("provider", [OIDC, SAML])
def test_alice_signs_in_picks_a_role_and_uses_the_credentials(
    setup: Setup, browser: Any, provider: str
) -> None:
    context, page = _sign_in(browser, setup, provider, "alice")
    try:
        main = page.inner_text("main")
        assert "fed-staff" in main and "fed-admin" in main
        if provider == OIDC:
            _shot(page, "portal-federated.png")
        arn = _use_role(setup, page, "fed-admin")
    finally:
        context.close()
    subject = "alice" if provider == OIDC else "alice@example.com"
    assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/fed-admin/{subject}"


@pytest.mark.parametrize("provider", [OIDC, SAML])
def test_bob_is_offered_only_the_staff_role(setup: Setup, browser: Any, provider: str) -> None:
    context, page = _sign_in(browser, setup, provider, "bob")
    try:
        main = page.inner_text("main")
        assert "fed-staff" in main and "fed-admin" not in main
        assert _use_role(setup, page, "fed-staff").startswith(
            f"arn:aws:sts::{ACCOUNT}:assumed-role/fed-staff/"
        )
    finally:
        context.close()


@pytest.mark.parametrize("provider", [OIDC, SAML])
def test_carol_sees_why_no_role_is_offered(setup: Setup, browser: Any, provider: str) -> None:
    context, page = _sign_in(browser, setup, provider, "carol")
    try:
        main = page.inner_text("main")
        assert "No role is available to you." in main
        assert f"you have no groups; no rule matched them for provider {provider}" in main
    finally:
        context.close()


def test_cli_device_flow_through_the_oidc_peer_and_the_aws_cli(
    setup: Setup, browser: Any, tmp_path: Path
) -> None:
    """`bridge login --no-browser`: alice confirms the code after signing in through the
    real OpenID provider; the AWS CLI then gets credentials through `credential_process`."""
    env = {**setup.bridge.env, "BRIDGE_CLI_DIR": str(tmp_path / "cli")}
    login_command = [sys.executable, "-m", "bridge", "login", "--url", setup.bridge.url]
    with subprocess.Popen(
        [*login_command, "--profile", "peer", "--no-browser"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as login:
        try:
            assert login.stderr is not None
            found = None
            while found is None:
                line = login.stderr.readline()
                assert line, "bridge login ended without printing a verification URL"
                found = re.search(r"\(or open (\S+)\)", line)
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(found.group(1))
            page.get_by_role("link", name="Peer OpenID").click()
            page.wait_for_selector("#username")
            page.fill("#username", "alice")
            page.fill("#password", str(peer_user("alice")["password"]))
            page.click("#submit")
            page.wait_for_url(re.compile(r"/device\?user_code="))
            page.click("#approve")
            assert "approved" in page.inner_text("#cli-result")
            context.close()
            assert login.wait(timeout=30) == 0
        finally:
            login.kill()
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/fed-admin"
    process = f"{sys.executable} -m bridge credential-process --role {role_arn} --profile peer"
    config = tmp_path / "aws-config"
    config.write_text(f"[profile p]\nregion = {REGION}\ncredential_process = {process}\n")
    aws = [sys.executable, "-m", "awscli", "sts", "get-caller-identity", "--profile", "p"]
    result = subprocess.run(
        [*aws, "--endpoint-url", setup.bridge.url, "--output", "json"],
        env={**env, "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    arn = json.loads(result.stdout)["Arn"]
    assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/fed-admin/alice"
