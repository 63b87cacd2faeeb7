"""SAML browser sign-in through the Flask test client with signed fixtures: SP-initiated
(InResponseTo = the request the bridge sent), IdP-initiated per setting, tampered
RelayState, replay, mapping + trust on the portal, SP metadata and SLO."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from lxml import etree

from bridge.audit import AuditEvent, MemorySink
from bridge.verify import saml_slo, saml_sp
from tests.data.saml.gen import (
    IDP_ENTITY_ID,
    AssertionSpec,
    KeyPair,
    build_assertion,
    build_metadata,
    build_response,
    encrypt,
    keypair,
    sign,
    to_b64,
)
from tests.support.login_app import (
    ACCOUNT,
    LoginApp,
    csrf_of,
    location,
    make_login_app,
    page_text,
    signed_query,
)

BASE = "http://localhost"
ACS = f"{BASE}/saml/acs"
SP_ENTITY = f"{BASE}/saml/metadata"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/TestIdP"
SSO = "https://idp.example.test/sso"
SLO = "https://idp.example.test/slo"
MAPPING = {
    "rules": [
        {
            "id": "staff",
            "providers": ["corp"],
            "when": {"claim": "groups", "contains": "staff"},
            "roles": ["staff-role"],
            "session_name": "{sub}",
        },
        {
            "id": "admins",
            "providers": ["corp"],
            "when": {"claim": "groups", "contains": "admins"},
            "roles": ["admin-role", "untrusted-role"],
        },
    ]
}


def _trust(provider_arn: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": ACS}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _metadata() -> str:
    root = etree.fromstring(build_metadata(keypair("idp")).encode())
    idp = root[0]
    etree.SubElement(
        idp,
        "{urn:oasis:names:tc:SAML:2.0:metadata}SingleLogoutService",
        Binding=saml_sp.REDIRECT,
        Location=SLO,
    )
    return etree.tostring(root, encoding="unicode")


def _app(tmp_path: Path, **provider: Any) -> LoginApp:
    login = {
        "corp": {
            "protocol": "saml",
            "display_name": "Corp SAML",
            "saml_provider": "TestIdP",
            **provider,
        }
    }
    app = make_login_app(tmp_path, login_providers=login, mapping=MAPPING)
    app.directory.saml_providers.create("TestIdP", _metadata())
    for name in ("staff-role", "admin-role"):
        app.directory.roles.create(name, _trust(PROVIDER_ARN), description=f"the {name}")
    other = f"arn:aws:iam::{ACCOUNT}:saml-provider/Other"
    app.directory.roles.create("untrusted-role", _trust(other))
    return app


@pytest.fixture
def login(tmp_path: Path) -> LoginApp:
    return _app(tmp_path)


@pytest.fixture
def sink(login: LoginApp) -> MemorySink:
    memory = MemorySink()
    login.services.audit._sinks = (*login.services.audit._sinks, memory)
    return memory


def _start(client: FlaskClient, next_path: str = "/portal") -> tuple[str, str]:
    """(AuthnRequest ID, RelayState) of a sign-in begun at /login/corp."""
    answer = client.get(f"/login/corp?next={next_path}")
    assert answer.status_code == 303
    target = answer.headers["Location"]
    assert target.startswith(SSO + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
    request = etree.fromstring(zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15))
    assert request.get("AssertionConsumerServiceURL") == ACS
    return str(request.get("ID")), params["RelayState"]


def _response(
    login: LoginApp,
    in_response_to: str | None,
    *,
    groups: tuple[str, ...] = ("staff", "admins"),
    assertion_id: str = "_a1",
) -> str:
    spec = AssertionSpec(
        now=login.clock.now(),
        assertion_id=assertion_id,
        recipient=ACS,
        audience=SP_ENTITY,
        in_response_to=in_response_to,
        attributes=(("mail", None, ("alice@example.com",)), ("groups", None, groups)),
    )
    assertion = sign(build_assertion(spec), keypair("idp"))
    root = build_response(assertion, now=spec.now, destination=ACS, in_response_to=in_response_to)
    return to_b64(root)


def _acs(client: FlaskClient, response: str, relay: str | None) -> Any:
    data = {"SAMLResponse": response}
    if relay is not None:
        data["RelayState"] = relay
    return client.post("/saml/acs", data=data)


def _logins(sink: MemorySink) -> list[AuditEvent]:
    return [e for e in sink.events if e.event_name == "ConsoleLogin"]


def test_sp_initiated_sign_in_lists_trusted_candidates_and_issues_credentials(
    login: LoginApp, sink: MemorySink
) -> None:
    client = login.client()
    request_id, relay = _start(client, "/portal")
    answer = _acs(client, _response(login, request_id), relay)
    assert (answer.status_code, location(answer)) == (303, "/portal")
    portal = page_text(client.get("/portal"))
    assert "Signed in as <strong>alice@example.com</strong>" in portal
    assert "staff-role" in portal and "admin-role" in portal
    assert "untrusted-role" not in portal
    [event] = _logins(sink)
    trust = {
        t["role_arn"].rsplit("/", 1)[1]: t["accepted"] for t in event.details["mapping"]["trust"]
    }
    assert trust == {"staff-role": True, "admin-role": True, "untrusted-role": False}
    token = csrf_of(client.get("/portal"))
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/staff-role"
    page = client.post("/portal/assume", data={"csrf_token": token, "role_arn": role_arn})
    assert page.status_code == 200, page_text(page)
    key = re.search(r"AWS_ACCESS_KEY_ID=(ASIA\w+)", page_text(page))
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=([^\s<]+)", page_text(page))
    session = re.search(r"AWS_SESSION_TOKEN=([^\s<]+)", page_text(page))
    assert key and secret and session
    who = signed_query(client, key.group(1), secret.group(1), session.group(1))
    assert "assumed-role/staff-role/alice@example.com" in who.get_data(as_text=True)


def test_no_group_mapped_shows_the_explanation(login: LoginApp, sink: MemorySink) -> None:
    client = login.client()
    request_id, relay = _start(client)
    _acs(client, _response(login, request_id, groups=()), relay)
    portal = page_text(client.get("/portal"))
    assert "you have no groups; no rule matched them for provider corp" in portal


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        pytest.param("tampered-relay", "does not allow IdP-initiated sign-in", id="tampered-relay"),
        pytest.param("unsolicited", "does not allow IdP-initiated sign-in", id="unsolicited"),
        pytest.param("other-request", "InResponseTo", id="answers-another-request"),
        pytest.param("replay", "does not allow IdP-initiated sign-in", id="replayed"),
    ],
)
def test_refusals_are_pages_and_audited(
    login: LoginApp, sink: MemorySink, case: str, fragment: str
) -> None:
    client = login.client()
    request_id, relay = _start(client)
    if case == "tampered-relay":
        answer = _acs(client, _response(login, request_id), relay[:-2] + "00")
    elif case == "unsolicited":
        answer = _acs(client, _response(login, None), None)
    elif case == "other-request":
        answer = _acs(client, _response(login, "_someone-elses-request"), relay)
    else:
        response = _response(login, request_id)
        assert _acs(client, response, relay).status_code == 303
        answer = _acs(client, response, relay)
    assert answer.status_code == 400
    assert fragment in page_text(answer)
    failure = [e for e in _logins(sink) if e.result == "failure"]
    assert failure and fragment in (failure[-1].error_message or "")


def test_idp_initiated_allowed_per_setting_and_one_time(tmp_path: Path) -> None:
    login = _app(tmp_path, allow_idp_initiated=True)
    client = login.client()
    client.get("/login")  # a session cookie, as a browser that visited before
    response = _response(login, None)
    first = _acs(client, response, "/portal")
    assert (first.status_code, location(first)) == (303, "/portal")
    second = _acs(login.client(), response, None)
    assert second.status_code == 200  # no cookie: re-posted from our own origin first
    again = login.client()
    again.get("/login")
    replay = _acs(again, response, None)
    assert replay.status_code == 400
    assert "already used to sign in" in page_text(replay)
    solicited = _acs(again, _response(login, "_not-ours", assertion_id="_a2"), None)
    assert "did not begin" in page_text(solicited)


def test_a_cross_site_post_without_the_cookie_is_posted_again_from_this_origin(
    login: LoginApp,
) -> None:
    answer = _acs(login.client(), "PHg+", "relay")
    page = page_text(answer)
    assert answer.status_code == 200 and 'name="bridge_resubmit" value="1"' in page
    assert "autosubmit.js" in page and "script-src" not in answer.headers["Content-Security-Policy"]


def test_unknown_provider_is_a_404_page(login: LoginApp, sink: MemorySink) -> None:
    answer = login.client().get("/login/nope")
    assert answer.status_code == 404
    assert "no sign-in provider is named `nope`" in page_text(answer)
    assert _logins(sink)[-1].result == "failure"


def test_open_redirect_in_next_is_ignored(login: LoginApp) -> None:
    client = login.client()
    request_id, relay = _start(client, "//evil.example.test/x")
    assert location(_acs(client, _response(login, request_id), relay)) == "/portal"


def test_post_binding_and_signed_requests(tmp_path: Path) -> None:
    login = _app(tmp_path, binding="post", sign_requests="always")
    login.directory.saml_providers.update(
        PROVIDER_ARN,
        _metadata().replace(
            'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"',
            'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.test/sso"',
        ),
    )
    page = login.client().get("/login/corp")
    assert page.status_code == 200
    text = page_text(page)
    assert 'action="https://idp.example.test/sso"' in text
    assert "form-action 'self' https:" in page.headers["Content-Security-Policy"]
    value = re.search(r'name="SAMLRequest" value="([^"]+)"', text)
    assert value is not None
    assert b"<ds:Signature" in base64.b64decode(value.group(1))


def test_sp_metadata_endpoint(login: LoginApp) -> None:
    answer = login.client().get("/saml/metadata")
    root = etree.fromstring(answer.get_data())
    assert root.get("entityID") == SP_ENTITY
    assert answer.mimetype == "application/samlmetadata+xml"


def test_sign_out_sends_a_signed_logout_request_to_the_idp(login: LoginApp) -> None:
    client = login.client()
    request_id, relay = _start(client)
    _acs(client, _response(login, request_id), relay)
    token = csrf_of(client.get("/portal"))
    answer = client.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(SLO + "?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    request = etree.fromstring(zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15))
    assert request.findtext("{urn:oasis:names:tc:SAML:2.0:protocol}SessionIndex") == "_session-1"
    assert location(client.get("/portal")).startswith("/login")


def test_idp_logout_request_ends_the_session_and_is_answered(login: LoginApp) -> None:
    client = login.client()
    request_id, relay = _start(client)
    _acs(client, _response(login, request_id), relay)
    idp = saml_sp.SPInfo(IDP_ENTITY_ID, "", "", keypair("idp").key_pem, keypair("idp").cert_pem)
    message = saml_slo.logout_request(
        idp,
        f"{BASE}/saml/slo",
        "_lr9",
        "2026-01-01T00:00:00Z",
        "alice@example.com",
        None,
        "_session-1",
    )
    out = saml_sp.redirect("/saml/slo", "SAMLRequest", message, None, keypair("idp").key_pem)
    answer = client.get(out.url)
    assert answer.status_code == 303 and answer.headers["Location"].startswith(
        SLO + "?SAMLResponse="
    )
    assert location(client.get("/portal")).startswith("/login")
    forged = saml_sp.redirect(
        "/saml/slo", "SAMLRequest", message, None, keypair("attacker").key_pem
    )
    assert client.get(forged.url).status_code == 400


@pytest.mark.parametrize(
    ("name_id", "session_index"),
    [
        pytest.param("mallory@example.com", "_session-1", id="other-subject"),
        pytest.param("alice@example.com", "_other-session", id="other-session-index"),
    ],
)
def test_idp_logout_request_ends_only_the_session_it_names(
    login: LoginApp, name_id: str, session_index: str
) -> None:
    """A signed LogoutRequest for someone else (SAML core 3.7.3.2) leaves this session alone,
    and the same message is not taken twice."""
    client = login.client()
    request_id, relay = _start(client)
    _acs(client, _response(login, request_id), relay)
    idp = saml_sp.SPInfo(IDP_ENTITY_ID, "", "", keypair("idp").key_pem, keypair("idp").cert_pem)
    message = saml_slo.logout_request(
        idp, f"{BASE}/saml/slo", "_lr-other", "2026-01-01T00:00:00Z", name_id, None, session_index
    )
    out = saml_sp.redirect("/saml/slo", "SAMLRequest", message, None, keypair("idp").key_pem)
    assert client.get(out.url).status_code == 303
    assert client.get("/portal").status_code == 200
    assert client.get(out.url).status_code == 400


def test_encrypted_assertion_is_decrypted_with_the_sp_key(login: LoginApp) -> None:
    """An IdP that encrypts for the SP certificate in the home (SAML core 6.2)."""
    settings = login.services.settings
    sp = KeyPair(
        "sp",
        settings.effective_sp_key_file.read_bytes(),
        settings.effective_sp_cert_file.read_bytes(),
    )
    client = login.client()
    request_id, relay = _start(client)
    spec = AssertionSpec(
        now=login.clock.now(),
        assertion_id="_enc1",
        recipient=ACS,
        audience=SP_ENTITY,
        in_response_to=request_id,
        attributes=(("groups", None, ("staff",)),),
    )
    encrypted = encrypt(sign(build_assertion(spec), keypair("idp")), sp)
    root = build_response(encrypted, now=spec.now, destination=ACS, in_response_to=request_id)
    answer = _acs(client, to_b64(sign(root, keypair("idp"))), relay)
    assert (answer.status_code, location(answer)) == (303, "/portal")
    assert "staff-role" in page_text(client.get("/portal"))
