"""OIDC browser sign-in through the Flask test client against a real local OP: the code
flow with PKCE, state bound to the browser session (one-time), access denied, and
mapping + trust for the portal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask.testing import FlaskClient

from bridge.audit import MemorySink
from tests.support.login_app import ACCOUNT, LoginApp, location, make_login_app, page_text
from tests.support.mini_op import CLIENT_ID, CLIENT_SECRET, MiniOP, running_mini_op

REDIRECT = "http://localhost/oidc/callback"
MAPPING = {
    "rules": [
        {
            "id": "staff",
            "providers": ["okta"],
            "when": {"claim": "groups", "contains": "staff"},
            "roles": ["oidc-staff"],
        },
    ]
}


@pytest.fixture(scope="module")
def op() -> Iterator[MiniOP]:
    with running_mini_op() as running:
        yield running


@pytest.fixture
def login(tmp_path: Path, op: MiniOP) -> LoginApp:
    secret = tmp_path / "okta-secret"
    secret.write_text(CLIENT_SECRET)
    secret.chmod(0o600)
    provider = {
        "protocol": "oidc",
        "display_name": "Okta",
        "issuer": op.issuer,
        "client_id": CLIENT_ID,
        "client_secret_file": str(secret),
    }
    app = make_login_app(tmp_path, login_providers={"okta": provider}, mapping=MAPPING)
    app.directory.oidc_providers.create(op.issuer, client_ids=[CLIENT_ID])
    host = op.issuer.split("://", 1)[1]
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": CLIENT_ID}},
    }
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    app.directory.roles.create("oidc-staff", trust, description="staff via OIDC")
    return app


@pytest.fixture
def sink(login: LoginApp) -> MemorySink:
    memory = MemorySink()
    login.services.audit._sinks = (*login.services.audit._sinks, memory)
    return memory


def _start(client: FlaskClient, op: MiniOP) -> dict[str, str]:
    answer = client.get("/login/okta?next=/portal")
    assert answer.status_code == 303
    target = answer.headers["Location"]
    assert target.startswith(f"{op.issuer}/auth?")
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


def _callback(client: FlaskClient, op: MiniOP, query: dict[str, str], **claims: Any) -> Any:
    claims.setdefault("nonce", query["nonce"])
    code = op.issue_code(query["code_challenge"], REDIRECT, None, **claims)
    params = {"code": code, "state": query["state"], "iss": op.issuer}
    return client.get("/oidc/callback?" + urlencode(params))


def test_sign_in_reaches_the_portal_with_the_mapped_role(
    login: LoginApp, op: MiniOP, sink: MemorySink
) -> None:
    client = login.client()
    query = _start(client, op)
    assert query["redirect_uri"] == REDIRECT and query["code_challenge_method"] == "S256"
    answer = _callback(client, op, query, sub="alice", email="alice@example.com", groups=["staff"])
    assert (answer.status_code, location(answer)) == (303, "/portal")
    portal = page_text(client.get("/portal"))
    assert "alice@example.com" in portal and "oidc-staff" in portal and "staff via OIDC" in portal
    event = [e for e in sink.events if e.event_name == "ConsoleLogin"][-1]
    assert event.result == "success" and event.details["mapping"]["granted"]


def test_no_group_shows_the_explanation(login: LoginApp, op: MiniOP) -> None:
    client = login.client()
    _callback(client, op, _start(client, op), sub="carol")
    assert "you have no groups; no rule matched them for provider okta" in page_text(
        client.get("/portal")
    )


def test_replayed_callback_is_refused(login: LoginApp, op: MiniOP, sink: MemorySink) -> None:
    client = login.client()
    query = _start(client, op)
    claims = {"nonce": query["nonce"], "sub": "alice"}
    code = op.issue_code(query["code_challenge"], REDIRECT, None, **claims)
    url = "/oidc/callback?" + urlencode({"code": code, "state": query["state"], "iss": op.issuer})
    assert client.get(url).status_code == 303
    again = client.get(url)
    assert again.status_code == 400
    assert "already used `state`" in page_text(again)
    assert sink.events[-1].result == "failure"


def test_callback_in_another_browser_is_refused(login: LoginApp, op: MiniOP) -> None:
    query = _start(login.client(), op)
    answer = _callback(login.client(), op, query, sub="alice")
    assert answer.status_code == 400
    assert "does not match a sign-in this browser began" in page_text(answer)


def test_access_denied_shows_a_clear_page(login: LoginApp, op: MiniOP, sink: MemorySink) -> None:
    client = login.client()
    query = _start(client, op)
    params = {"error": "access_denied", "state": query["state"], "iss": op.issuer}
    answer = client.get("/oidc/callback?" + urlencode(params))
    assert answer.status_code == 400
    assert "the identity provider did not sign you in: `access_denied`" in page_text(answer)
    assert sink.events[-1].error_message and "access_denied" in sink.events[-1].error_message


def test_foreign_issuer_in_the_reply_is_refused(login: LoginApp, op: MiniOP) -> None:
    client = login.client()
    query = _start(client, op)
    params = {"code": "x", "state": query["state"], "iss": "https://evil.example.test"}
    answer = client.get("/oidc/callback?" + urlencode(params))
    assert answer.status_code == 400 and "mix-up" in page_text(answer)


def test_missing_iam_oidc_provider_is_explained(login: LoginApp, op: MiniOP) -> None:
    client = login.client()
    query = _start(client, op)
    login.directory.oidc_providers.delete(
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/{op.issuer.split('://', 1)[1]}"
    )
    answer = _callback(client, op, query, sub="alice")
    assert answer.status_code == 400
    assert "no OpenID Connect provider is registered for the issuer" in page_text(answer)
    assert "no OpenID Connect provider" in page_text(login.client().get("/login/okta"))


def test_start_fails_early_when_the_iam_provider_lacks_the_client_id(
    login: LoginApp, op: MiniOP
) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{op.issuer.split('://', 1)[1]}"
    login.directory.oidc_providers.remove_client_id(arn, CLIENT_ID)
    answer = login.client().get("/login/okta")
    assert answer.status_code == 400
    assert "does not list the client id `bridge`" in page_text(answer)
