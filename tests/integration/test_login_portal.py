"""The portal for a local IAM user: the roles its trust policies allow, assuming one,
and the credentials page (copy-ready forms, no-store) whose credentials work."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bridge.audit import MemorySink
from tests.support.login_app import (
    ACCOUNT,
    LoginApp,
    csrf_of,
    location,
    make_login_app,
    page_text,
    sign_in,
    signed_query,
)

ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
_ENV = re.compile(r"export (AWS_[A-Z_]+)=([^\s<]+)")


@pytest.fixture
def login(tmp_path: Path) -> LoginApp:
    app = make_login_app(tmp_path)
    app.add_user("alice")
    app.add_user("bob")
    app.add_role("Developer", ALICE, description="Deploys the web tier")
    app.add_role("Auditor", f"arn:aws:iam::{ACCOUNT}:user/bob")
    app.add_role("AccountWide", f"arn:aws:iam::{ACCOUNT}:root")
    return app


def _roles_listed(page: str) -> list[str]:
    return re.findall(r'name="role_arn" id="role-\d+" value="([^"]+)"', page)


def test_portal_lists_the_roles_the_user_may_assume(login: LoginApp) -> None:
    client = login.client()
    sign_in(client, "alice")
    page = page_text(client.get("/portal"))
    assert _roles_listed(page) == [f"arn:aws:iam::{ACCOUNT}:role/Developer"]
    assert "Deploys the web tier" in page


def test_account_wide_trust_needs_an_identity_policy(login: LoginApp) -> None:
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    login.directory.inline_policies.put("user", "alice", "assume", json.dumps(allow))
    client = login.client()
    sign_in(client, "alice")
    listed = _roles_listed(page_text(client.get("/portal")))
    assert listed == [
        f"arn:aws:iam::{ACCOUNT}:role/AccountWide",
        f"arn:aws:iam::{ACCOUNT}:role/Developer",
    ]


def test_assumed_credentials_work_and_are_not_cached(login: LoginApp) -> None:
    sink = MemorySink()
    login.services.audit._sinks = (*login.services.audit._sinks, sink)
    client = login.client()
    sign_in(client, "alice")
    role = f"arn:aws:iam::{ACCOUNT}:role/Developer"
    token = csrf_of(client.get("/portal"))
    response = client.post(
        "/portal/assume", data={"csrf_token": token, "role_arn": role, "profile": "dev"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = page_text(response)
    env = dict(_ENV.findall(page))
    assert set(env) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert "[dev]\naws_access_key_id = " + env["AWS_ACCESS_KEY_ID"] in page
    assert f"[profile dev]\ncredential_process = bridge credential-process --role {role}<" in page
    assert "bridge login --url http" in page
    assert re.search(r'id="expiration">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<', page)
    answer = signed_query(
        login.client(),
        env["AWS_ACCESS_KEY_ID"],
        env["AWS_SECRET_ACCESS_KEY"],
        env["AWS_SESSION_TOKEN"],
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200, text
    assert f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer/alice" in text
    events = [e for e in sink.events if e.event_name == "PortalAssumeRole"]
    assert [(e.result, e.details["role_arn"]) for e in events] == [("success", role)]
    assert env["AWS_SECRET_ACCESS_KEY"] not in json.dumps([dict(e.details) for e in events])


@pytest.mark.parametrize(
    "role",
    [
        pytest.param(f"arn:aws:iam::{ACCOUNT}:role/Auditor", id="trust-names-someone-else"),
        pytest.param(f"arn:aws:iam::{ACCOUNT}:role/Missing", id="no-such-role"),
        pytest.param("not-an-arn", id="malformed"),
    ],
)
def test_a_role_not_offered_is_refused(login: LoginApp, role: str) -> None:
    client = login.client()
    sign_in(client, "alice")
    token = csrf_of(client.get("/portal"))
    response = client.post("/portal/assume", data={"csrf_token": token, "role_arn": role})
    assert response.status_code == 403
    assert "you may not assume" in page_text(response)


def test_a_bad_profile_name_falls_back(login: LoginApp) -> None:
    client = login.client()
    sign_in(client, "alice")
    token = csrf_of(client.get("/portal"))
    data = {
        "csrf_token": token,
        "role_arn": f"arn:aws:iam::{ACCOUNT}:role/Developer",
        "profile": "x]\n[evil",
    }
    page = page_text(client.post("/portal/assume", data=data))
    assert "[bridge]" in page
    assert "evil" not in page


def test_portal_needs_sign_in(login: LoginApp) -> None:
    client = login.client()
    assert location(client.get("/portal")) == "/login?next=/portal"
    token = csrf_of(client.get("/login/local"))
    response = client.post("/portal/assume", data={"csrf_token": token, "role_arn": "x"})
    assert location(response) == "/login?next=/portal/assume"


def test_a_user_with_no_role_sees_why(login: LoginApp) -> None:
    login.add_user("carol")
    client = login.client()
    sign_in(client, "carol")
    page = page_text(client.get("/portal"))
    assert "No role is available to you." in page
    assert "no role's trust policy lets this user assume it" in page
