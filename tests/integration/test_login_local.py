"""Local sign-in through the Flask test client: password, then TOTP when a device is
enabled; one message for every failure, audited; throttling; the root account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.audit import AuditEvent, MemorySink
from tests.support.login_app import (
    PASSWORD,
    ROOT_PASSWORD,
    LoginApp,
    csrf_of,
    location,
    make_login_app,
    page_text,
    sign_in,
    submit_code,
)

GENERIC = "incorrect user name or password"


@pytest.fixture
def login(tmp_path: Path) -> LoginApp:
    app = make_login_app(tmp_path)
    app.add_user("alice")
    app.directory.users.create("nopassword")
    return app


@pytest.fixture
def sink(login: LoginApp) -> MemorySink:
    memory = MemorySink()
    login.services.audit._sinks = (*login.services.audit._sinks, memory)
    return memory


def _console_logins(sink: MemorySink) -> list[AuditEvent]:
    return [event for event in sink.events if event.event_name == "ConsoleLogin"]


def test_password_only_user_reaches_the_portal(login: LoginApp, sink: MemorySink) -> None:
    client = login.client()
    response = sign_in(client, "alice")
    assert location(response) == "/portal"
    portal = client.get("/portal")
    assert portal.status_code == 200
    assert "Signed in as <strong>alice</strong>" in page_text(portal)
    [event] = _console_logins(sink)
    assert (event.result, event.principal) == ("success", "arn:aws:iam::123456789012:user/alice")


@pytest.mark.parametrize(
    ("user_name", "password", "reason"),
    [
        pytest.param("alice", "Wrong-password-1", "invalid_credentials", id="wrong-password"),
        pytest.param("mallory", PASSWORD, "invalid_credentials", id="unknown-user"),
        pytest.param("nopassword", PASSWORD, "invalid_credentials", id="no-login-profile"),
        pytest.param("alice", "", "missing_credentials", id="empty-password"),
    ],
)
def test_every_failure_shows_one_message_and_is_audited(
    login: LoginApp, sink: MemorySink, user_name: str, password: str, reason: str
) -> None:
    client = login.client()
    response = sign_in(client, user_name, password)
    assert response.status_code == 401
    assert GENERIC in page_text(response)
    assert location(client.get("/portal")) == "/login?next=/portal"
    [event] = _console_logins(sink)
    assert event.result == "failure"
    assert event.details == {"user_name": user_name, "reason": reason}
    assert not password or password not in json.dumps(event.details)


def test_mfa_user_needs_a_valid_code(login: LoginApp, sink: MemorySink) -> None:
    _, seed = login.add_mfa("alice")
    client = login.client()
    response = sign_in(client, "alice")
    assert location(response) == "/login/mfa"
    assert location(client.get("/portal")) == "/login?next=/portal"
    wrong = submit_code(client, "000000" if login.code(seed) != "000000" else "111111")
    assert wrong.status_code == 401
    assert "incorrect or expired MFA code" in page_text(wrong)
    right = submit_code(client, login.code(seed))
    assert location(right) == "/portal"
    assert client.get("/portal").status_code == 200
    results = [(e.result, e.details.get("reason")) for e in _console_logins(sink)]
    assert results == [("failure", "invalid_mfa_code"), ("success", None)]


def test_an_mfa_code_works_only_once(login: LoginApp) -> None:
    _, seed = login.add_mfa("alice")
    first = login.client()
    sign_in(first, "alice")
    code = login.code(seed)
    assert location(submit_code(first, code)) == "/portal"
    second = login.client()
    sign_in(second, "alice")
    assert submit_code(second, code).status_code == 401


def test_the_mfa_step_cannot_be_skipped(login: LoginApp) -> None:
    login.add_mfa("alice")
    client = login.client()
    sign_in(client, "alice")
    assert location(client.get("/portal")) == "/login?next=/portal"
    assert location(client.get("/account/password")) == "/login?next=/account/password"


def test_mfa_step_expires(login: LoginApp) -> None:
    _, seed = login.add_mfa("alice")
    client = login.client()
    sign_in(client, "alice")
    login.clock.advance(301)
    assert location(client.get("/login/mfa")) == "/login/local"
    token = csrf_of(client.get("/login/local"))
    late = client.post("/login/mfa", data={"csrf_token": token, "code": login.code(seed)})
    assert location(late) == "/login/local"
    assert location(client.get("/portal")) == "/login?next=/portal"


def test_failures_lock_the_name_for_a_while(login: LoginApp, sink: MemorySink) -> None:
    client = login.client()
    for _ in range(5):
        assert sign_in(client, "alice", "Wrong-password-1").status_code == 401
    locked = sign_in(client, "ALICE")
    assert locked.status_code == 429
    assert "too many failed attempts" in page_text(locked)
    assert _console_logins(sink)[-1].details["reason"] == "throttled"
    login.clock.advance(31)
    assert location(sign_in(client, "alice")) == "/portal"


def test_root_signs_in_with_its_password_then_mfa(login: LoginApp) -> None:
    client = login.client()
    assert sign_in(client, "", "Wrong-password-1", account="root").status_code == 401
    response = sign_in(client, "", ROOT_PASSWORD, account="root")
    assert location(response) == "/portal"
    portal = page_text(client.get("/portal"))
    assert "root account cannot assume roles" in portal
    _, seed = login.add_mfa(None)
    again = login.client()
    assert location(sign_in(again, "", ROOT_PASSWORD, account="root")) == "/login/mfa"
    assert location(submit_code(again, login.code(seed))) == "/portal"


def test_chooser_offers_local_sign_in(login: LoginApp) -> None:
    page = page_text(login.client().get("/login?next=/account/mfa"))
    assert 'href="/login/local?next=/account/mfa"' in page
    assert '<html lang="en">' in page
