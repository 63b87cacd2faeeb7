"""A bridge app for the login-page tests: SQLite (migrated) in a temporary home, a
`FixedClock`, cheap password hashing, the root password set, and page helpers."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bridge.app import create_app
from bridge.clock import FixedClock
from bridge.credentials.keys import PURPOSES
from bridge.directory import Directory, HashingConfig
from bridge.services import Services, build_services
from bridge.settings import load_settings
from bridge.storage import migrate

ACCOUNT = "123456789012"
ROOT_PASSWORD = "Root-password-0001"
PASSWORD = "Correct-horse-42"
CHEAP = HashingConfig(time_cost=1, memory_cost_kib=8, parallelism=1)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class LoginApp:
    app: Flask
    services: Services
    clock: FixedClock

    @property
    def directory(self) -> Directory:
        return self.services.directory

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def add_user(self, name: str, password: str = PASSWORD) -> str:
        user = self.directory.users.create(name)
        self.directory.login_profiles.create(name, password)
        return self.directory.users.arn(user)

    def add_mfa(self, user_name: str | None) -> tuple[str, str]:
        """A virtual MFA device enabled for the user (None: root); (serial, seed)."""
        created = self.directory.mfa.create_virtual(user_name or "root-device")
        totp = pyotp.TOTP(created.seed_base32)
        now = self.clock.now()
        code1, code2 = totp.at(now.timestamp() - 30), totp.at(now)
        self.directory.mfa.enable(user_name, created.device.serial_number, code1, code2)
        self.clock.advance(60)  # past the steps the enabling codes used
        return created.device.serial_number, created.seed_base32

    def add_role(self, name: str, principal: str, description: str = "") -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
            ],
        }
        role = self.directory.roles.create(name, json.dumps(trust), description=description)
        return self.directory.roles.arn(role)

    def code(self, seed: str, offset_seconds: int = 0) -> str:
        return str(pyotp.TOTP(seed).at(self.clock.now().timestamp() + offset_seconds))


def make_login_app(tmp_path: Path, **overrides: Any) -> LoginApp:
    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'bridge.db'}"
    migrate.upgrade(url)
    values = {"account_id": ACCOUNT, "database_url": url, "base_url": "http://localhost"}
    settings = load_settings(home, environ={}, overrides={**values, **overrides})
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    services = build_services(settings, clock=clock, master_key=bytes(range(32)))
    services._directory = Directory(  # cheap hashing: argon2 defaults would slow every test
        services.store,
        account_id=ACCOUNT,
        sealer=services.key_ring,
        clock=clock,
        rng=services.rng,
        hasher=CHEAP,
    )
    for purpose in PURPOSES:
        services.key_ring.ensure(purpose)
    services.directory.account.create(ROOT_PASSWORD)
    return LoginApp(create_app(services=services), services, clock)


def csrf_of(response: TestResponse) -> str:
    found = _CSRF.search(response.get_data(as_text=True))
    assert found is not None, "the page has no csrf_token field"
    return html.unescape(found.group(1))


def form_token(client: FlaskClient, path: str = "/login/local") -> str:
    return csrf_of(client.get(path))


def sign_in(
    client: FlaskClient, user_name: str, password: str = PASSWORD, **extra: str
) -> TestResponse:
    data = {"csrf_token": form_token(client), "user_name": user_name, "password": password}
    return client.post("/login/local", data={**data, **extra})


def submit_code(client: FlaskClient, code: str) -> TestResponse:
    token = form_token(client, "/login/mfa")
    return client.post("/login/mfa", data={"csrf_token": token, "code": code})


def page_text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def location(response: TestResponse) -> str:
    """The redirect target as a path (the test client may make it absolute)."""
    target = response.headers.get("Location", "")
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def signed_query(client: FlaskClient, access_key: str, secret: str, token: str) -> TestResponse:
    """GetCallerIdentity signed by botocore with the given credentials, through the app."""
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    aws = AWSRequest("POST", "http://localhost/", data=body, headers=headers)
    SigV4Auth(Credentials(access_key, secret, token), "sts", "us-east-1").add_auth(aws)
    sent = {"Host": "localhost", **dict(aws.headers.items())}
    return client.post("/", data=body, headers=sent)
