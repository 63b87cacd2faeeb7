"""A small Flask items service protected by `bridge.client.AuthorizeMiddleware`, asking a
live bridge: credentials from AssumeRoleWithWebIdentity (real local IdP), requests signed
with botocore's SigV4Auth for the made-up service `items` and sent with `requests`.
The service allows and denies exactly as the role's policies say, takes revocation on
the next call, and fails closed when the bridge cannot answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from flask import Flask, jsonify, request

from bridge.client import AuthorizeClient, AuthorizeMiddleware, Decision, Principal, Rule
from tests.e2e.idp import LocalIdP
from tests.e2e.live import REGION, LiveBridge
from tests.e2e.test_e2e_sts_web_identity import anonymous_sts
from tests.support.peer_process import free_port
from tests.support.wsgi_thread import serving

ACCOUNT = "123456789012"
ITEM = f"arn:aws:items:{REGION}:{ACCOUNT}:item"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/items-reader"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/items-reader/alice-session"
RULES = [
    Rule(["GET"], "/items/{item_id}", "items:GetItem", ITEM + "/{item_id}"),
    Rule(["PUT"], "/items/{item_id}", "items:PutItem", ITEM + "/{item_id}"),
    Rule(["DELETE"], "/items/{item_id}", "items:DeleteItem", ITEM + "/{item_id}"),
    Rule(
        ["POST"],
        "/items/{item_id}/paint",
        "items:PaintItem",
        ITEM + "/{item_id}",
        context=lambda environ, params: {"items:Color": environ.get("HTTP_X_COLOR", "")},
    ),
]
ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "items:GetItem", "Resource": f"{ITEM}/*"},
        {"Sid": "NoSecrets", "Effect": "Deny", "Action": "items:*", "Resource": f"{ITEM}/secret"},
        {"Effect": "Allow", "Action": "items:PutItem", "Resource": f"{ITEM}/notes"},
        {
            "Effect": "Allow",
            "Action": "items:PaintItem",
            "Resource": f"{ITEM}/*",
            "Condition": {"StringEquals": {"items:Color": "red"}},
        },
    ],
}


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


def _service_keys(iam: Any, name: str, *, may_authorize: bool) -> Keys:
    iam.create_user(UserName=name)
    if may_authorize:
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "bridge:Authorize", "Resource": f"{ITEM}/*"}
            ],
        }
        iam.put_user_policy(UserName=name, PolicyName="ask", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture(scope="module")
def service_keys(bridge: LiveBridge, idp: LocalIdP) -> Keys:
    """The items service's own keys (with `bridge:Authorize`), and the caller's role."""
    iam: Any = bridge.client("iam")
    provider = iam.create_open_id_connect_provider(Url=idp.issuer, ClientIDList=["bridge"])
    host = idp.issuer.removeprefix("http://")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider["OpenIDConnectProviderArn"]},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{host}:aud": "bridge"}},
            }
        ],
    }
    iam.create_role(RoleName="items-reader", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="items-reader", PolicyName="items", PolicyDocument=json.dumps(ROLE_POLICY)
    )
    return _service_keys(iam, "items-service", may_authorize=True)


def assume(bridge: LiveBridge, idp: LocalIdP) -> Keys:
    creds = anonymous_sts(bridge).assume_role_with_web_identity(
        RoleArn=ROLE_ARN, RoleSessionName="alice-session", WebIdentityToken=idp.token()
    )["Credentials"]
    return Keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


@pytest.fixture(scope="module")
def caller_keys(bridge: LiveBridge, idp: LocalIdP, service_keys: Keys) -> Keys:
    return assume(bridge, idp)


def items_app() -> Flask:
    app = Flask("items")

    @app.get("/items/<item_id>")
    def get_item(item_id: str) -> Any:
        principal = request.environ["bridge.principal"]
        decision = request.environ["bridge.decision"]
        assert isinstance(principal, Principal) and isinstance(decision, Decision)
        return jsonify(item=item_id, principal=principal.arn, decision=decision.decision)

    @app.put("/items/<item_id>")
    def put_item(item_id: str) -> Any:
        return jsonify(item=item_id, stored=request.get_data(as_text=True))

    @app.post("/items/<item_id>/paint")
    def paint_item(item_id: str) -> Any:
        return jsonify(painted=item_id, color=request.headers["X-Color"])

    @app.delete("/items/<item_id>")
    def delete_item(item_id: str) -> Any:
        return jsonify(deleted=item_id)

    return app


def protect(bridge_url: str, keys: Keys) -> Flask:
    app = items_app()
    client = AuthorizeClient(
        bridge_url,
        access_key_id=keys.access_key_id,
        secret_access_key=keys.secret_access_key,
        region=REGION,
        timeout=5.0,
    )
    app.wsgi_app = AuthorizeMiddleware(app.wsgi_app, client, RULES)  # type: ignore[method-assign]
    return app


@pytest.fixture(scope="module")
def items_url(bridge: LiveBridge, service_keys: Keys) -> Iterator[str]:
    with serving(protect(bridge.url, service_keys)) as url:
        yield url


def signed(
    method: str, url: str, keys: Keys, body: bytes = b"", **headers: str
) -> requests.Response:
    """Send a request signed with botocore's SigV4Auth for the service `items`."""
    prepared = AWSRequest(method=method, url=url, data=body, headers=headers)
    creds = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    SigV4Auth(creds, "items", REGION).add_auth(prepared)
    return requests.request(method, url, data=body, headers=dict(prepared.headers), timeout=10)


def bearer(method: str, url: str, keys: Keys) -> requests.Response:
    headers = {"Authorization": f"Bearer {keys.session_token}"}
    return requests.request(method, url, headers=headers, timeout=10)


def test_allowed_route_reaches_the_service(items_url: str, caller_keys: Keys) -> None:
    response = signed("GET", f"{items_url}/items/42?view=full", caller_keys)
    assert response.status_code == 200, response.text
    assert response.json() == {"item": "42", "principal": SESSION_ARN, "decision": "allowed"}


def test_signed_body_is_checked_and_read_again_by_the_service(
    items_url: str, caller_keys: Keys
) -> None:
    response = signed("PUT", f"{items_url}/items/notes", caller_keys, b'{"text": "hello"}')
    assert response.status_code == 200, response.text
    assert response.json() == {"item": "notes", "stored": '{"text": "hello"}'}


@pytest.mark.parametrize(
    ("method", "path", "decision", "fragment"),
    [
        pytest.param("DELETE", "/items/42", "implicitDeny", "`items:DeleteItem` on", id="no-allow"),
        pytest.param("PUT", "/items/42", "implicitDeny", "(no allow)", id="allow-elsewhere"),
        pytest.param("GET", "/items/secret", "explicitDeny", "explicit deny", id="explicit-deny"),
    ],
)
def test_denied_as_the_policies_say(
    items_url: str, caller_keys: Keys, method: str, path: str, decision: str, fragment: str
) -> None:
    response = signed(method, items_url + path, caller_keys, b"x" if method == "PUT" else b"")
    assert response.status_code == 403, response.text
    body = response.json()
    assert (body["error"], body["decision"]) == ("AccessDenied", decision)
    assert SESSION_ARN in body["message"] and fragment in body["message"]
    assert body["request_id"]


@pytest.mark.parametrize(
    ("color", "status"),
    [pytest.param("red", 200, id="condition-met"), pytest.param("blue", 403, id="condition-unmet")],
)
def test_rule_context_reaches_the_policy_conditions(
    items_url: str, caller_keys: Keys, color: str, status: int
) -> None:
    response = signed("POST", f"{items_url}/items/7/paint", caller_keys, **{"X-Color": color})
    assert response.status_code == status, response.text


def test_tampered_body_is_denied_naming_the_signature(items_url: str, caller_keys: Keys) -> None:
    prepared = AWSRequest(method="PUT", url=f"{items_url}/items/notes", data=b"signed")
    creds = Credentials(
        caller_keys.access_key_id, caller_keys.secret_access_key, caller_keys.session_token
    )
    SigV4Auth(creds, "items", REGION).add_auth(prepared)
    response = requests.put(
        f"{items_url}/items/notes", data=b"forged", headers=dict(prepared.headers), timeout=10
    )
    assert response.status_code == 403
    assert response.json()["error"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    "headers",
    [pytest.param({}, id="none"), pytest.param({"Authorization": "Basic eDp5"}, id="basic")],
)
def test_no_credentials_is_401(items_url: str, headers: dict[str, str]) -> None:
    response = requests.get(f"{items_url}/items/42", headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "MissingAuthenticationToken"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/items/42", 200, id="allowed"),
        pytest.param("GET", "/items/secret", 403, id="explicit-deny"),
        pytest.param("DELETE", "/items/42", 403, id="implicit-deny"),
    ],
)
def test_bearer_form(
    items_url: str, caller_keys: Keys, method: str, path: str, status: int
) -> None:
    response = bearer(method, items_url + path, caller_keys)
    assert response.status_code == status, response.text


def test_unknown_route_is_refused(items_url: str, caller_keys: Keys) -> None:
    response = signed("GET", f"{items_url}/admin", caller_keys)
    assert response.status_code == 403
    assert response.json()["message"] == "no authorization rule for `GET /admin`"


@pytest.mark.parametrize("send", [signed, bearer], ids=["sigv4", "bearer"])
def test_revocation_takes_effect_on_the_next_call(
    bridge: LiveBridge, idp: LocalIdP, items_url: str, send: Any
) -> None:
    keys = assume(bridge, idp)
    assert send("GET", f"{items_url}/items/42", keys).status_code == 200
    revoked = bridge.cli("sessions", "revoke", "--session", keys.access_key_id)
    assert revoked.returncode == 0, revoked.stderr
    started = time.monotonic()
    response = send("GET", f"{items_url}/items/42", keys)
    # the bridge re-reads revocations every 1 s; a bearer decision is cached up to 1 s more
    while response.status_code == 200 and time.monotonic() - started < 2.5:
        time.sleep(0.1)
        response = send("GET", f"{items_url}/items/42", keys)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "InvalidClientTokenId"
    assert "revoked" in response.json()["message"]


def test_bridge_down_fails_closed(caller_keys: Keys, service_keys: Keys) -> None:
    with serving(protect(f"http://127.0.0.1:{free_port()}", service_keys)) as url:
        response = signed("GET", f"{url}/items/42", caller_keys)
        by_bearer = bearer("GET", f"{url}/items/42", caller_keys)
    assert (response.status_code, by_bearer.status_code) == (503, 503)
    assert response.json()["error"] == "ServiceUnavailable"


def test_service_without_bridge_authorize_fails_closed(
    bridge: LiveBridge, caller_keys: Keys
) -> None:
    keys = _service_keys(bridge.client("iam"), "unlisted-service", may_authorize=False)
    with serving(protect(bridge.url, keys)) as url:
        response = signed("GET", f"{url}/items/42", caller_keys)
    assert response.status_code == 500
    assert response.json()["error"] == "InternalFailure"
