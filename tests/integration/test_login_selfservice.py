"""Self-service for local users: change the password under the account policy, and
enroll a TOTP device confirmed with two consecutive codes (QR code and secret shown)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.directory.passwords import PasswordPolicy
from bridge.storage.models import BrowserSessionRow
from bridge.storage.sql import SqlStore
from tests.support.login_app import (
    LoginApp,
    csrf_of,
    location,
    make_login_app,
    page_text,
    sign_in,
    submit_code,
)

NEW_PASSWORD = "A-much-longer-passw0rd"
_SECRET = re.compile(r'id="secret" readonly value="([A-Z2-7=]+)"')
_QR = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture
def login(tmp_path: Path) -> LoginApp:
    app = make_login_app(tmp_path)
    policy = PasswordPolicy(
        minimum_length=12, require_numbers=True, allow_users_to_change_password=True
    )
    app.directory.account.update_password_policy(policy)
    app.add_user("alice", "Original-passw0rd")
    return app


def _change(client: FlaskClient, old: str, new: str, confirm: str | None = None) -> str:
    token = csrf_of(client.get("/account/password"))
    data = {
        "csrf_token": token,
        "old_password": old,
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
    }
    response = client.post("/account/password", data=data)
    return f"{response.status_code} {page_text(response)}"


@pytest.mark.parametrize(
    ("old", "new", "confirm", "expected"),
    [
        pytest.param("Original-passw0rd", NEW_PASSWORD, None, "200", id="accepted"),
        pytest.param(
            "Original-passw0rd", NEW_PASSWORD, "other", "400 confirmation differ", id="confirm"
        ),
        pytest.param("Wrong-passw0rd-1", NEW_PASSWORD, None, "400 current password", id="old"),
        pytest.param(
            "Original-passw0rd", "short1", None, "400 at least 12 characters", id="too-short"
        ),
        pytest.param("Original-passw0rd", "long-without-numbers", None, "400 number", id="digit"),
    ],
)
def test_password_change_follows_the_policy(
    login: LoginApp, old: str, new: str, confirm: str | None, expected: str
) -> None:
    client = login.client()
    sign_in(client, "alice", "Original-passw0rd")
    result = _change(client, old, new, confirm)
    status, _, words = expected.partition(" ")
    assert result.startswith(status)
    assert words in result
    works = NEW_PASSWORD if status == "200" else "Original-passw0rd"
    assert location(sign_in(login.client(), "alice", works)) == "/portal"


def test_without_policy_permission_the_change_is_refused(login: LoginApp) -> None:
    login.directory.account.update_password_policy(PasswordPolicy(minimum_length=12))
    client = login.client()
    sign_in(client, "alice", "Original-passw0rd")
    assert "ask an administrator" in _change(client, "Original-passw0rd", NEW_PASSWORD)
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": "*"}],
    }
    login.directory.inline_policies.put("user", "alice", "self", json.dumps(allow))
    assert _change(client, "Original-passw0rd", NEW_PASSWORD).startswith("200")


def test_a_required_reset_comes_first(login: LoginApp) -> None:
    login.directory.users.create("bob")
    login.directory.login_profiles.create("bob", "Original-passw0rd", password_reset_required=True)
    client = login.client()
    assert location(sign_in(client, "bob", "Original-passw0rd", next="/account/mfa")) == (
        "/account/password"
    )
    assert location(client.get("/portal")) == "/account/password"
    token = csrf_of(client.get("/account/password"))
    data = {"csrf_token": token, "old_password": "Original-passw0rd"}
    data |= {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert location(client.post("/account/password", data=data)) == "/account/mfa"
    assert client.get("/portal").status_code == 200


def test_nothing_is_granted_before_a_required_reset_even_past_its_page(
    login: LoginApp,
) -> None:
    """Skipping `/account/password` (posting straight to the portal or the CLI approval pages,
    or waiting out the pending step) grants nothing until the password has changed."""
    user_arn = login.add_user("carol")
    login.directory.login_profiles.update("carol", password_reset_required=True)
    role = login.add_role("CarolRole", user_arn)
    client = login.client()
    sign_in(client, "carol")
    for _ in range(3):  # the pending reset step (1 h) expires; the session stays alive
        login.clock.advance(25 * 60)
        client.get("/account/password")
    token = csrf_of(client.get("/account/password"))
    assume = client.post("/portal/assume", data={"csrf_token": token, "role_arn": role})
    assert assume.status_code == 403
    device = client.post("/device", data={"csrf_token": token, "user_code": "BCDF-GHJK"})
    assert device.status_code == 403


def _start_enrollment(client: FlaskClient) -> tuple[str, str]:
    token = csrf_of(client.get("/account/mfa"))
    page = page_text(client.post("/account/mfa", data={"csrf_token": token, "action": "create"}))
    secret, qr = _SECRET.search(page), _QR.search(page)
    assert secret is not None
    assert qr is not None
    return secret.group(1), base64.b64decode(qr.group(1)).decode()


def _enable(client: FlaskClient, code1: str, code2: str) -> tuple[int, str]:
    token = csrf_of(client.get("/account/mfa"))
    data = {"csrf_token": token, "action": "enable", "code1": code1, "code2": code2}
    response = client.post("/account/mfa", data=data)
    return response.status_code, page_text(response)


def test_totp_enrollment_with_two_consecutive_codes(login: LoginApp) -> None:
    client = login.client()
    sign_in(client, "alice", "Original-passw0rd")
    secret, svg = _start_enrollment(client)
    assert svg.lstrip().startswith("<svg")
    status, page = _enable(client, login.code(secret), login.code(secret, 30))
    assert status == 200
    assert "arn:aws:iam::123456789012:mfa/alice" in page
    assert "is enabled" in page
    login.clock.advance(90)
    again = login.client()
    assert location(sign_in(again, "alice", "Original-passw0rd")) == "/login/mfa"
    assert location(submit_code(again, login.code(secret))) == "/portal"


@pytest.mark.parametrize(
    ("first_offset", "second_offset"),
    [
        pytest.param(0, 0, id="same-code-twice"),
        pytest.param(0, 60, id="not-consecutive"),
        pytest.param(30, 0, id="reversed"),
    ],
)
def test_enrollment_refuses_codes_that_are_not_consecutive(
    login: LoginApp, first_offset: int, second_offset: int
) -> None:
    client = login.client()
    sign_in(client, "alice", "Original-passw0rd")
    secret, _ = _start_enrollment(client)
    code1, code2 = login.code(secret, first_offset), login.code(secret, second_offset)
    status, page = _enable(client, code1, code2)
    assert status == 400
    assert "not two consecutive valid codes" in page
    assert secret in page  # the same enrollment continues
    assert login.directory.mfa.list("alice") == []


def test_the_enrollment_secret_is_sealed_in_the_session_store(login: LoginApp) -> None:
    client = login.client()
    sign_in(client, "alice", "Original-passw0rd")
    secret, _ = _start_enrollment(client)
    store = login.services.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        payloads = " ".join(connection.execute(select(BrowserSessionRow.payload)).scalars())
    assert secret not in payloads
    assert secret.rstrip("=") not in payloads


@pytest.mark.parametrize("path", ["/portal", "/account/mfa", "/account/password"])
def test_anonymous_people_are_sent_to_sign_in(login: LoginApp, path: str) -> None:
    assert location(login.client().get(path)) == f"/login?next={path}"


@pytest.mark.parametrize("path", ["/account/mfa", "/account/password"])
def test_posts_of_anonymous_people_are_refused(login: LoginApp, path: str) -> None:
    client = login.client()
    token = csrf_of(client.get("/login/local"))
    response = client.post(path, data={"csrf_token": token, "action": "create"})
    assert response.status_code == 403
    assert login.directory.mfa.list_virtual("Any") == []
