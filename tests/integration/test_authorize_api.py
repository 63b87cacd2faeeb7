"""`POST /v1/authorize` and `/openapi.json` through the Flask test client, on SQLite and on
PostgreSQL: requests signed by botocore, answers checked against the served OpenAPI document."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from bridge.app import create_app
from bridge.audit import AuditLog, StoreSink
from bridge.bootstrap import initialise_home
from bridge.credentials.issue import IssuedCredentials, SessionRequest, issue
from bridge.services import Services
from bridge.settings import load_settings
from bridge.storage.sql import SqlStore
from tests.e2e.live import postgres_database

ACCOUNT = "123456789012"
ITEM = f"arn:aws:items:eu-west-1:{ACCOUNT}:item/1"
DEAD_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})  # fmt: skip
ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "items:GetItem", "Resource": "*"},
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "items:DeleteItem", "Resource": "*"},
]})  # fmt: skip
GOOD = {"action": "items:GetItem", "resource": ITEM}
SERVICE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Action": "bridge:Authorize", "Resource": f"arn:aws:items:*:{ACCOUNT}:*"}]})  # fmt: skip


@dataclass
class Bed:
    client: FlaskClient
    services: Services
    service_key: tuple[str, str]
    stranger_key: tuple[str, str]
    role_id: str
    session: IssuedCredentials


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def bed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    with ExitStack() as stack:
        env = {}
        if request.param == "postgres":
            env["BRIDGE_DATABASE_URL"] = stack.enter_context(postgres_database())
        home = tmp_path_factory.mktemp("authorize") / "home"
        initialise_home(home, account_id=ACCOUNT, force=False, environ=env)
        app = create_app(load_settings(home, environ=env))
        services: Services = app.extensions["bridge"]
        stack.callback(services.close)
        yield _populate(app.test_client(), services)


def _populate(client: FlaskClient, services: Services) -> Bed:
    directory = services.directory
    for name in ("items-service", "stranger"):
        directory.users.create(name)
    directory.inline_policies.put("user", "items-service", "authorize", SERVICE_POLICY)
    role = directory.roles.create("reader", TRUST)
    directory.inline_policies.put("role", "reader", "read", ROLE_POLICY)
    keys = [directory.keys.create(name) for name in ("items-service", "stranger")]
    request = SessionRequest(
        account_id=ACCOUNT, kind="assumed-role", subject_id=role.role_id, subject_name="reader",
        subject_arn=directory.roles.arn(role), session_name="alice", duration_seconds=3600,
    )  # fmt: skip
    session = issue(request, clock=services.clock, rng=services.rng, key_ring=services.key_ring)
    pairs = [(k.key.access_key_id, k.secret_access_key) for k in keys]
    return Bed(client, services, pairs[0], pairs[1], role.role_id, session)


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    loaded: dict[str, Any] = response.get_json()
    return loaded


def check(client: FlaskClient, status: int, body: Any) -> None:
    """`body` validates against the schema the served document gives for `status`."""
    doc = document(client)
    answers = doc["paths"]["/v1/authorize"]["post"]["responses"][str(status)]
    schema = {**answers["content"]["application/json"]["schema"], "components": doc["components"]}
    Draft202012Validator(schema).validate(body)


def valid_request(client: FlaskClient, body: Any) -> bool:
    doc = document(client)
    content = doc["paths"]["/v1/authorize"]["post"]["requestBody"]["content"]
    schema = {**content["application/json"]["schema"], "components": doc["components"]}
    return bool(Draft202012Validator(schema).is_valid(body))


def post(bed: Bed, body: Any, key: tuple[str, str] | None = None, service: str = "bridge") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    aws = AWSRequest("POST", "http://localhost/v1/authorize", data=raw,
                     headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(Credentials(*(key or bed.service_key)), service, "eu-west-1").add_auth(aws)
    return bed.client.post("/v1/authorize", data=raw, headers=dict(aws.headers.items()))


def subject_sigv4(creds: IssuedCredentials, body: bytes = b'{"q": 1}') -> dict[str, Any]:
    credentials = Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token)
    aws = AWSRequest("PUT", "https://items.internal/items/1?x=1", data=body)
    SigV4Auth(credentials, "items", "eu-west-1").add_auth(aws)
    parts = urlsplit(aws.url)
    headers = {"Host": parts.netloc, **dict(aws.headers.items())}
    return {"method": "PUT", "path": parts.path, "query": parts.query, "headers": headers,
            "body_sha256": hashlib.sha256(body).hexdigest()}  # fmt: skip


@pytest.mark.parametrize(
    ("action", "decision", "sids"),
    [
        pytest.param("items:GetItem", "allowed", [None], id="allowed"),
        pytest.param("items:DeleteItem", "explicitDeny", ["NoDelete"], id="explicit-deny"),
        pytest.param("items:ListItems", "implicitDeny", [], id="implicit-deny"),
    ],
)
def test_a_signed_caller_is_decided_by_its_role(
    bed: Bed, action: str, decision: str, sids: list[str | None]
) -> None:
    body = {"caller": {"sigv4": subject_sigv4(bed.session)}, "action": action, "resource": ITEM}
    assert valid_request(bed.client, body)
    response = post(bed, body)
    answer = response.get_json()
    check(bed.client, 200, answer)
    assert (response.status_code, answer["decision"], answer["error_code"]) == (200, decision, None)
    assert [m["sid"] for m in answer["matched"]] == sids
    principal = answer["principal"]
    assert (principal["arn"], principal["type"], principal["session_name"]) == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice", "AssumedRole", "alice",
    )  # fmt: skip
    assert principal["expiration"] == bed.session.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert answer["request_id"] == response.headers["x-amzn-RequestId"]


def test_batch_with_a_bearer_token(bed: Bed) -> None:
    body = {"caller": {"bearer": bed.session.session_token}, "requests": [
        {"action": "items:GetItem", "resource": ITEM},
        {"action": "items:DeleteItem", "resource": ITEM, "context": {"aws:SourceIp": "10.1.2.3"}},
    ]}  # fmt: skip
    response = post(bed, body)
    answer = response.get_json()
    check(bed.client, 200, answer)
    assert [r["decision"] for r in answer["results"]] == ["allowed", "explicitDeny"]
    assert answer["principal"]["access_key_id"] == bed.session.access_key_id


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        pytest.param(lambda s: {"bearer": s.session_token[:-4] + "AAAA"}, "InvalidClientTokenId",
                     id="tampered-token"),
        pytest.param(lambda s: {"sigv4": {**subject_sigv4(s), "body_sha256": "0" * 64}},
                     "SignatureDoesNotMatch", id="other-body"),
    ],
)  # fmt: skip
def test_an_unauthenticated_caller_is_an_implicit_deny_with_the_reason(
    bed: Bed, caller: Any, code: str
) -> None:
    response = post(
        bed, {"caller": caller(bed.session), "action": "items:GetItem", "resource": ITEM}
    )
    answer = response.get_json()
    check(bed.client, 200, answer)
    assert (answer["decision"], answer["principal"], answer["error_code"]) == (
        "implicitDeny", None, code,
    )  # fmt: skip
    assert answer["reason"]


@pytest.mark.parametrize(
    ("how", "status", "code"),
    [
        pytest.param("unsigned", 401, "MissingAuthenticationToken", id="unsigned"),
        pytest.param("wrong-secret", 401, "SignatureDoesNotMatch", id="wrong-secret"),
        pytest.param("iam-scope", 401, "SignatureDoesNotMatch", id="scoped-to-iam"),
        pytest.param("stranger", 403, "AccessDenied", id="no-bridge-authorize"),
    ],
)
def test_the_asking_service_must_be_authenticated_and_allowed(
    bed: Bed, how: str, status: int, code: str
) -> None:
    body = {"caller": {"bearer": bed.session.session_token}, "action": "items:GetItem",
            "resource": ITEM}  # fmt: skip
    raw = json.dumps(body).encode()
    if how == "unsigned":
        response = bed.client.post("/v1/authorize", data=raw, content_type="application/json")
    elif how == "wrong-secret":
        response = post(bed, body, key=(bed.service_key[0], "x" * 40))
    elif how == "iam-scope":
        response = post(bed, body, service="iam")
    else:
        response = post(bed, body, key=bed.stranger_key)
    answer = response.get_json()
    check(bed.client, status, answer)
    assert (response.status_code, answer["error"]) == (status, code)
    if how == "stranger":
        assert f"bridge:Authorize on resource: {ITEM}" in answer["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(b"{not json", "body", id="not-json"),
        pytest.param({"caller": {"bearer": "x"}, "requests": [GOOD] * 3 + [
            {"action": "x", "resource": ITEM}]}, "requests[3].action", id="batch-item"),
        pytest.param({"caller": {"bearer": "x"}, "action": "items:GetItem"}, "resource",
                     id="no-resource"),
    ],
)  # fmt: skip
def test_a_malformed_body_is_a_400_naming_the_field(bed: Bed, body: Any, field: str) -> None:
    response = post(bed, body)
    answer = response.get_json()
    check(bed.client, 400, answer)
    assert (response.status_code, answer["error"]) == (400, "ValidationError")
    assert answer["message"].startswith(f"{field}: ")
    assert isinstance(body, bytes) or not valid_request(bed.client, body)


def test_a_body_over_the_limit_is_a_413(bed: Bed) -> None:
    limit = bed.services.settings.max_request_bytes
    response = post(bed, b"x" * (limit + 1))
    answer = response.get_json()
    check(bed.client, 413, answer)
    assert (response.status_code, answer["error"]) == (413, "RequestEntityTooLarge")


def test_decisions_are_stored_audit_events_and_last_accessed(bed: Bed) -> None:
    body = {"caller": {"bearer": bed.session.session_token}, "action": "items:GetItem",
            "resource": f"{ITEM}-audited"}  # fmt: skip
    request_id = post(bed, body).get_json()["request_id"]
    assert bed.services.audit.flush(), "the audit queue did not drain"
    with bed.services.store.transaction() as uow:
        events = uow.audit.query(since=None, until=None, principal=None, event="Authorize",
                                 limit=500)  # fmt: skip
        uses = uow.service_access.list_for([bed.role_id])
    mine = [e for e in events if e.request_id == request_id]
    assert [(e.result, e.principal) for e in mine] == [
        ("success", f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/alice")
    ]
    details = json.loads(mine[0].details)
    assert (details["resource"], details["decision"], details["service"]) == (
        f"{ITEM}-audited", "allowed", f"arn:aws:iam::{ACCOUNT}:user/items-service",
    )  # fmt: skip
    assert [(u.namespace, u.region) for u in uses] == [("items", "eu-west-1")]


def test_a_down_audit_store_still_answers_and_readyz_reports_the_loss(bed: Bed) -> None:
    before = bed.client.get("/readyz").get_json()
    assert "lost" not in before and "degraded" not in before
    dead = SqlStore(DEAD_POSTGRES, clock=bed.services.clock, connect_timeout=1)
    kept, bed.services.audit = (
        bed.services.audit,
        AuditLog(StoreSink(dead, logger=logging.getLogger("test.audit"))),
    )
    try:
        body = {"caller": {"bearer": bed.session.session_token}, "action": "items:GetItem",
                "resource": ITEM}  # fmt: skip
        answer = post(bed, body).get_json()
        ready = bed.client.get("/readyz")
    finally:
        bed.services.audit = kept
        dead.close()
    assert answer["decision"] == "allowed"
    doc = document(bed.client)
    schema = {"$ref": "#/components/schemas/Ready", "components": doc["components"]}
    Draft202012Validator(schema).validate(ready.get_json())
    assert (ready.status_code, ready.get_json()["status"], ready.get_json()["lost"]) == (
        200, "ready", {"audit_events": 1, "last_accessed": 0},
    )  # fmt: skip
    assert ready.get_json()["degraded"] == ["1 audit events lost"]


def test_the_openapi_document_is_openapi_3_1_and_documents_the_endpoints(bed: Bed) -> None:
    doc = document(bed.client)
    assert doc["openapi"].startswith("3.1")
    assert {"/v1/authorize", "/healthz", "/readyz"} <= set(doc["paths"])
    Draft202012Validator.check_schema({"components": doc["components"]})
    health = {"$ref": "#/components/schemas/Health", "components": doc["components"]}
    Draft202012Validator(health).validate(bed.client.get("/healthz").get_json())


def test_the_document_ships_with_the_package() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert "api/openapi.json" in pyproject
