"""Browser sessions of the login pages through the Flask test client on SQLite:
cookie flags, rotation at sign-in, idle and absolute timeouts, CSRF, sign-out,
open redirects, security headers, and only a hash of the id in the database."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import select

from bridge.login.session import COOKIE
from bridge.storage.models import BrowserSessionRow
from bridge.storage.redis_sessions import PREFIX
from bridge.storage.sql import SqlStore
from tests.conftest import service_unavailable
from tests.support.login_app import (
    LoginApp,
    csrf_of,
    form_token,
    location,
    make_login_app,
    page_text,
    sign_in,
)

REDIS_URL = os.environ.get("BRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def login(tmp_path: Path) -> LoginApp:
    app = make_login_app(tmp_path)
    app.add_user("alice")
    return app


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [
        pytest.param("http://localhost", False, id="http-loopback-development"),
        pytest.param("https://bridge.example.com", True, id="https"),
    ],
)
def test_cookie_flags(tmp_path: Path, base_url: str, secure: bool) -> None:
    app = make_login_app(tmp_path, base_url=base_url)
    response = app.client().get("/login/local")
    header = response.headers["Set-Cookie"]
    attributes = [part.strip().lower() for part in header.split(";")]
    assert header.startswith(f"{COOKIE}=")
    assert {"httponly", "samesite=lax", "path=/"} <= set(attributes)
    assert ("secure" in attributes) is secure


def test_sign_in_rotates_the_id_and_the_old_id_is_dead(login: LoginApp) -> None:
    client = login.client()
    token_before = form_token(client)
    before = _cookie(client)
    response = sign_in(client, "alice")
    assert location(response) == "/portal"
    after = _cookie(client)
    assert after != before
    assert csrf_of(client.get("/portal")) != token_before
    stale = login.client()
    stale.set_cookie(COOKIE, before)
    assert location(stale.get("/portal")) == "/login?next=/portal"


def test_only_a_hash_of_the_id_is_stored(login: LoginApp) -> None:
    client = login.client()
    sign_in(client, "alice")
    session_id = _cookie(client)
    store = login.services.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        keys = set(connection.execute(select(BrowserSessionRow.key)).scalars())
        payloads = " ".join(connection.execute(select(BrowserSessionRow.payload)).scalars())
    assert hashlib.sha256(session_id.encode()).hexdigest() in keys
    assert session_id not in keys
    assert session_id not in payloads


@pytest.mark.parametrize(
    ("steps_minutes", "alive"),
    [
        pytest.param([29], True, id="idle-29-minutes"),
        pytest.param([30], False, id="idle-30-minutes"),
        pytest.param([20, 20, 20], True, id="active-an-hour"),
        pytest.param([25] * 28, True, id="active-11h40"),
        pytest.param([25] * 29, False, id="absolute-12-hours"),
    ],
)
def test_idle_and_absolute_timeouts(login: LoginApp, steps_minutes: list[int], alive: bool) -> None:
    client = login.client()
    sign_in(client, "alice")
    response = client.get("/portal")
    for minutes in steps_minutes:
        login.clock.advance(minutes * 60)
        response = client.get("/portal")
        if response.status_code != 200:
            break
    assert (response.status_code == 200) is alive
    if not alive:
        assert location(response) == "/login?next=/portal"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("forged-token", id="forged"),
        pytest.param("other-session", id="another-sessions-token"),
    ],
)
def test_csrf_is_required_on_every_post(login: LoginApp, token: str | None) -> None:
    client = login.client()
    form_token(client)
    if token == "other-session":
        token = form_token(login.client())
    data = {"user_name": "alice", "password": "Correct-horse-42"}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login/local", data=data)
    assert response.status_code == 400
    assert "did not come from this site" in page_text(response)
    assert location(client.get("/portal")) == "/login?next=/portal"


@pytest.mark.parametrize("path", ["/logout", "/portal/assume", "/account/password"])
def test_csrf_is_checked_on_signed_in_posts(login: LoginApp, path: str) -> None:
    client = login.client()
    sign_in(client, "alice")
    response = client.post(path, data={"csrf_token": "forged", "role_arn": "x"})
    assert response.status_code == 400
    assert client.get("/portal").status_code == 200


def test_sign_out_ends_the_session(login: LoginApp) -> None:
    client = login.client()
    sign_in(client, "alice")
    old = _cookie(client)
    token = csrf_of(client.get("/portal"))
    response = client.post("/logout", data={"csrf_token": token})
    assert location(response) == "/login"
    assert client.get_cookie(COOKIE) is None
    stale = login.client()
    stale.set_cookie(COOKIE, old)
    assert location(stale.get("/portal")) == "/login?next=/portal"


@pytest.mark.parametrize(
    ("next_value", "target"),
    [
        pytest.param("/account/mfa", "/account/mfa", id="same-origin-path"),
        pytest.param("//evil.com", "/portal", id="scheme-relative"),
        pytest.param("https://evil.com", "/portal", id="absolute"),
        pytest.param("/\\evil.com", "/portal", id="backslash"),
        pytest.param("javascript:alert(1)", "/portal", id="javascript"),
    ],
)
def test_next_after_sign_in_stays_on_this_site(
    login: LoginApp, next_value: str, target: str
) -> None:
    client = login.client()
    response = sign_in(client, "alice", next=next_value)
    assert location(response) == target


@pytest.mark.parametrize("path", ["/login", "/login/local", "/portal"])
def test_security_headers_on_pages(login: LoginApp, path: str) -> None:
    client = login.client()
    sign_in(client, "alice")
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert "base-uri 'none'" in csp
    assert "default-src 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("signed_in", "target"),
    [pytest.param(False, "/login", id="anonymous"), pytest.param(True, "/portal", id="signed-in")],
)
def test_root_path_sends_people_on(login: LoginApp, signed_in: bool, target: str) -> None:
    client = login.client()
    if signed_in:
        sign_in(client, "alice")
    assert location(client.get("/")) == target


def test_query_api_keeps_get_root_with_a_query(login: LoginApp) -> None:
    response = login.client().get("/?Action=GetCallerIdentity&Version=2011-06-15")
    assert response.status_code in {400, 403}
    assert response.mimetype == "text/xml"


def test_stylesheet_is_served(login: LoginApp) -> None:
    client = login.client()
    page = page_text(client.get("/login"))
    assert '<link rel="stylesheet" href="/assets/bridge.css">' in page
    response = client.get("/assets/bridge.css")
    try:
        assert (response.status_code, response.mimetype) == (200, "text/css")
        assert b"font" in response.get_data()
    finally:
        response.close()


def test_sessions_live_in_redis_when_configured(tmp_path: Path) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", str(exc))
    app = make_login_app(tmp_path, redis_url=REDIS_URL)
    app.add_user("alice")
    client = app.client()
    sign_in(client, "alice")
    session_id = _cookie(client)
    key = f"{PREFIX}{hashlib.sha256(session_id.encode()).hexdigest()}"
    direct = redis.Redis.from_url(REDIS_URL)
    try:
        assert direct.exists(key) == 1
        assert 0 < int(direct.ttl(key)) <= 30 * 60
        assert client.get("/portal").status_code == 200
        token = csrf_of(client.get("/portal"))
        client.post("/logout", data={"csrf_token": token})
        assert direct.exists(key) == 0
    finally:
        direct.delete(key)
        direct.close()


@pytest.mark.parametrize(
    ("path", "sets_cookie"),
    [
        pytest.param("/login", True, id="chooser-where-a-sign-in-begins"),
        pytest.param("/portal", False, id="redirect-to-sign-in"),
        pytest.param("/", False, id="root-redirect"),
        pytest.param("/login/local", True, id="form-needs-a-csrf-token"),
    ],
)
def test_a_session_is_kept_only_when_needed(login: LoginApp, path: str, sets_cookie: bool) -> None:
    """A page that only asks who is signed in leaves no session and sets no cookie, so it
    cannot replace a browser's real session (a cross-site POST arrives without it)."""
    response = login.client().get(path)
    assert ("Set-Cookie" in response.headers) is sets_cookie
    store = login.services.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        rows = list(connection.execute(select(BrowserSessionRow.key)).scalars())
    assert len(rows) == (1 if sets_cookie else 0)
