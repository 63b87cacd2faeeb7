"""`POST /v1/authorize` on a live bridge: a caller with web-identity credentials signs a
request for a made-up service (`items`), the service asks the bridge with its own IAM keys."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bridge.clock import FixedClock
from bridge.credentials.issue import SessionRequest, issue
from bridge.services import build_services
from bridge.settings import load_settings
from tests.e2e.audit_wait import audit_events
from tests.e2e.idp import LocalIdP
from tests.e2e.live import REGION, LiveBridge
from tests.e2e.test_e2e_sts_web_identity import anonymous_sts

ACCOUNT = "123456789012"
ITEM = f"arn:aws:items:{REGION}:{ACCOUNT}:item/1"
ROLE_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["items:Get*", "items:DeleteItem"], "Resource": "*"},
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "items:DeleteItem", "Resource": "*"},
    {"Effect": "Allow", "Action": "items:Paint", "Resource": "*",
     "Condition": {"StringEquals": {"items:Color": "red"}}},
]}  # fmt: skip
AUTHORIZE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": "bridge:Authorize", "Resource": f"arn:aws:items:*:{ACCOUNT}:*"}]}  # fmt: skip


@pytest.fixture(scope="module")
def role_arn(bridge: LiveBridge, idp: LocalIdP) -> str:
    iam: Any = bridge.client("iam")
    provider = iam.create_open_id_connect_provider(Url=idp.issuer, ClientIDList=["bridge"])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Federated": provider["OpenIDConnectProviderArn"]},
        "Action": "sts:AssumeRoleWithWebIdentity"}]}  # fmt: skip
    role = iam.create_role(RoleName="items-user", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="items-user", PolicyName="items", PolicyDocument=json.dumps(ROLE_POLICY)
    )
    return str(role["Role"]["Arn"])


def web_identity(bridge: LiveBridge, idp: LocalIdP, role_arn: str) -> dict[str, Any]:
    result = anonymous_sts(bridge).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="alice", WebIdentityToken=idp.token()
    )
    return dict(result["Credentials"])


@pytest.fixture(scope="module")
def creds(bridge: LiveBridge, idp: LocalIdP, role_arn: str) -> dict[str, Any]:
    return web_identity(bridge, idp, role_arn)


def user_keys(bridge: LiveBridge, name: str, policy: dict[str, Any] | None) -> tuple[str, str]:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture(scope="module")
def service_keys(bridge: LiveBridge) -> tuple[str, str]:
    return user_keys(bridge, "items-service", AUTHORIZE)


def sigv4_caller(creds: dict[str, Any], body: bytes = b'{"name": "one"}') -> dict[str, Any]:
    """The caller's request to the `items` service, signed by botocore, as passed on."""
    credentials = Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    aws = AWSRequest("POST", "http://items.internal:8080/items/1?mode=full", data=body,
                     headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(credentials, "items", REGION).add_auth(aws)
    parts = urlsplit(aws.url)
    headers = {"Host": parts.netloc, **dict(aws.headers.items())}
    digest = hashlib.sha256(body).hexdigest()
    return {"sigv4": {"method": "POST", "path": parts.path, "query": parts.query,
                      "headers": headers, "body_sha256": digest}}  # fmt: skip


def ask(bridge: LiveBridge, keys: tuple[str, str], body: Any) -> requests.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    url = f"{bridge.url}/v1/authorize"
    aws = AWSRequest("POST", url, data=raw, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(*keys), "bridge", REGION).add_auth(aws)
    return requests.post(url, data=raw, headers=dict(aws.headers.items()), timeout=10)


def single(caller: dict[str, Any], action: str, **context: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"caller": caller, "action": action, "resource": ITEM}
    if context:
        body["context"] = context
    return body


@pytest.mark.parametrize(
    ("action", "context", "decision"),
    [
        pytest.param("items:GetItem", {}, "allowed", id="allowed"),
        pytest.param("items:DeleteItem", {}, "explicitDeny", id="explicit-deny"),
        pytest.param("other:GetItem", {}, "implicitDeny", id="implicit-deny"),
        pytest.param("items:Paint", {"items:Color": ["red"]}, "allowed", id="condition-met"),
    ],
)
def test_the_role_policies_decide_a_signed_request(
    bridge: LiveBridge,
    creds: dict[str, Any],
    service_keys: tuple[str, str],
    role_arn: str,
    action: str,
    context: dict[str, Any],
    decision: str,
) -> None:
    response = ask(bridge, service_keys, single(sigv4_caller(creds), action, **context))
    answer = response.json()
    assert (response.status_code, answer["decision"], answer["reason"]) == (200, decision, None)
    principal = answer["principal"]
    assert principal["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/items-user/alice"
    assert principal["type"] == "AssumedRole"
    assert principal["expiration"] == creds["Expiration"].astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_bearer_and_batch_forms(
    bridge: LiveBridge, creds: dict[str, Any], service_keys: tuple[str, str]
) -> None:
    bearer = {"bearer": creds["SessionToken"]}
    assert ask(bridge, service_keys, single(bearer, "items:GetItem")).json()["decision"] == (
        "allowed"
    )
    batch = {"caller": bearer, "requests": [
        {"action": "items:GetItem", "resource": ITEM},
        {"action": "items:DeleteItem", "resource": ITEM},
        {"action": "items:Paint", "resource": ITEM},
    ]}  # fmt: skip
    answer = ask(bridge, service_keys, batch).json()
    assert [r["decision"] for r in answer["results"]] == ["allowed", "explicitDeny", "implicitDeny"]
    assert answer["results"][2]["missing_context"] == ["items:Color"]


def test_a_revoked_session_is_denied_within_moments(
    bridge: LiveBridge, idp: LocalIdP, role_arn: str, service_keys: tuple[str, str]
) -> None:
    fresh = web_identity(bridge, idp, role_arn)
    body = single({"bearer": fresh["SessionToken"]}, "items:GetItem")
    assert ask(bridge, service_keys, body).json()["decision"] == "allowed"
    revoked = bridge.cli("sessions", "revoke", "--session", fresh["AccessKeyId"])
    assert revoked.returncode == 0, revoked.stderr
    start, answer = time.monotonic(), {}
    while time.monotonic() - start < 5:
        answer = ask(bridge, service_keys, body).json()
        if answer["decision"] != "allowed":
            break
        time.sleep(0.1)
    assert time.monotonic() - start < 1.5 + 0.5  # the revocation cache lives about a second
    assert (answer["decision"], answer["error_code"], answer["principal"]) == (
        "implicitDeny", "InvalidClientTokenId", None,
    )  # fmt: skip
    assert "revoked" in answer["reason"]


def expired_token(bridge: LiveBridge, role_arn: str) -> str:
    """A token sealed by this bridge's key ring an hour ago, for 15 minutes."""
    services = build_services(load_settings(bridge.home, environ=dict(bridge.env)))
    try:
        role = services.directory.roles.get("items-user")
        request = SessionRequest(
            account_id=ACCOUNT, kind="assumed-role", subject_id=role.role_id,
            subject_name=role.name, subject_arn=role_arn, session_name="old",
            duration_seconds=900,
        )  # fmt: skip
        past = FixedClock(datetime.now(UTC) - timedelta(hours=1))
        return issue(
            request, clock=past, rng=services.rng, key_ring=services.key_ring
        ).session_token
    finally:
        services.close()


def test_expired_and_tampered_tokens_are_denied_with_the_reason(
    bridge: LiveBridge, creds: dict[str, Any], service_keys: tuple[str, str], role_arn: str
) -> None:
    token = creds["SessionToken"]
    cases = {
        "ExpiredToken": expired_token(bridge, role_arn),
        "InvalidClientTokenId": token[:20] + ("A" if token[20] != "A" else "B") + token[21:],
    }
    for code, presented in cases.items():
        answer = ask(bridge, service_keys, single({"bearer": presented}, "items:GetItem")).json()
        assert (answer["decision"], answer["error_code"], answer["principal"]) == (
            "implicitDeny", code, None,
        ), code  # fmt: skip
        assert answer["reason"]


def test_a_service_without_bridge_authorize_gets_403(
    bridge: LiveBridge, creds: dict[str, Any]
) -> None:
    stranger = user_keys(bridge, "stranger-service", None)
    response = ask(bridge, stranger, single({"bearer": creds["SessionToken"]}, "items:GetItem"))
    assert (response.status_code, response.json()["error"]) == (403, "AccessDenied")
    assert ITEM in response.json()["message"]


def test_a_malformed_request_gets_400_naming_the_field(
    bridge: LiveBridge, creds: dict[str, Any], service_keys: tuple[str, str]
) -> None:
    requests_ = [{"action": "items:GetItem", "resource": ITEM}, {"action": 7, "resource": ITEM}]
    body = {"caller": {"bearer": creds["SessionToken"]}, "requests": requests_}
    response = ask(bridge, service_keys, body)
    assert (response.status_code, response.json()["error"]) == (400, "ValidationError")
    assert response.json()["message"].startswith("requests[1].action: ")


def test_decisions_are_audited_and_feed_service_last_accessed(
    bridge: LiveBridge, creds: dict[str, Any], service_keys: tuple[str, str], role_arn: str
) -> None:
    answer = ask(bridge, service_keys, single(sigv4_caller(creds), "items:GetItem")).json()
    events = audit_events(
        bridge,
        "Authorize",
        lambda found: any(e["request_id"] == answer["request_id"] for e in found),
    )
    mine = [e for e in events if e["request_id"] == answer["request_id"]]
    assert [(e["result"], e["principal"], e["details"]["action"]) for e in mine] == [
        ("success", f"arn:aws:sts::{ACCOUNT}:assumed-role/items-user/alice", "items:GetItem")
    ]
    assert mine[0]["details"]["service"] == f"arn:aws:iam::{ACCOUNT}:user/items-service"
    iam: Any = bridge.client("iam")
    job = iam.generate_service_last_accessed_details(Arn=role_arn)["JobId"]
    services = iam.get_service_last_accessed_details(JobId=job)["ServicesLastAccessed"]
    items = [s for s in services if s["ServiceNamespace"] == "items"]
    assert len(items) == 1 and items[0]["LastAuthenticatedEntity"] == role_arn
    assert items[0]["LastAuthenticatedRegion"] == REGION
    assert items[0]["TotalAuthenticatedEntities"] == 1
    age = datetime.now(UTC) - items[0]["LastAuthenticated"]
    assert timedelta(0) <= age < timedelta(minutes=5)
