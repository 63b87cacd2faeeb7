"""`GET /metrics` after real IAM and STS calls through the Flask test client: requests by
URL rule and status, refusals by code, decisions, credentials, sign-ins, throttling."""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import TestResponse

from bridge.app import create_app
from bridge.bootstrap import initialise_home
from bridge.settings import load_settings

FORM = "application/x-www-form-urlencoded; charset=utf-8"
IAM = {"Version": "2010-05-08"}
STS = {"Version": "2011-06-15"}
ROLE = "arn:aws:iam::123456789012:role/nobody"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("metrics") / "home"
    initialise_home(path, account_id="123456789012", force=False, environ={})
    return path


def make_app(home: Path, **overrides: object) -> Flask:
    return create_app(load_settings(home, environ={}, overrides=overrides))


def signed_call(
    client: FlaskClient, home: Path, service: str, params: dict[str, str]
) -> TestResponse:
    creds = configparser.ConfigParser()
    creds.read(home / "admin-credentials")
    key, secret = creds["default"]["aws_access_key_id"], creds["default"]["aws_secret_access_key"]
    body = urlencode(params).encode()
    aws = AWSRequest("POST", "http://localhost/", data=body, headers={"Content-Type": FORM})
    SigV4Auth(Credentials(key, secret), service, "eu-west-1").add_auth(aws)
    return client.post("/", data=body, headers=dict(aws.headers.items()))


def unsigned_call(client: FlaskClient, params: dict[str, str]) -> TestResponse:
    return client.post("/", data=urlencode(params), headers={"Content-Type": FORM})


def web_identity() -> dict[str, str]:
    return {
        **STS,
        "Action": "AssumeRoleWithWebIdentity",
        "RoleArn": ROLE,
        "RoleSessionName": "alice",
        "WebIdentityToken": "not.a.token",
    }


def samples(client: FlaskClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def sample(
    found: Mapping[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def after_calls(home: Path) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One app, a few calls of each kind, then one scrape."""
    client = make_app(home).test_client()
    assert (
        signed_call(
            client, home, "iam", {**IAM, "Action": "CreateUser", "UserName": "bob"}
        ).status_code
        == 200
    )
    assert (
        signed_call(
            client, home, "iam", {**IAM, "Action": "GetUser", "UserName": "nobody"}
        ).status_code
        == 404
    )
    assert signed_call(client, home, "sts", {**STS, "Action": "GetSessionToken"}).status_code == 200
    assert unsigned_call(client, web_identity()).status_code == 400
    assert client.get("/no/such/page").status_code == 404
    return samples(client)


@pytest.mark.parametrize(
    ("name", "labels", "expected"),
    [
        pytest.param(
            "bridge_http_requests_total",
            {"endpoint": "/", "method": "POST", "status": "200"},
            2.0,
            id="requests-ok",
        ),
        pytest.param(
            "bridge_http_requests_total",
            {"endpoint": "/", "method": "POST", "status": "404"},
            1.0,
            id="requests-not-found",
        ),
        pytest.param(
            "bridge_http_requests_total",
            {"endpoint": "<unmatched>", "method": "GET", "status": "404"},
            1.0,
            id="unmatched-path-is-one-label",
        ),
        pytest.param("bridge_refusals_total", {"reason": "NoSuchEntity"}, 1.0, id="refusal-iam"),
        pytest.param(
            "bridge_refusals_total", {"reason": "InvalidIdentityToken"}, 1.0, id="refusal-sts"
        ),
        pytest.param(
            "bridge_credentials_issued_total", {"kind": "GetSessionToken"}, 1.0, id="credentials"
        ),
        pytest.param(
            "bridge_sign_ins_total", {"provider": "unknown", "result": "failure"}, 1.0, id="sign-in"
        ),
        pytest.param("bridge_audit_store_errors_total", {}, 0.0, id="audit-losses"),
    ],
)
def test_metrics_after_calls(
    after_calls: Mapping[tuple[str, frozenset[tuple[str, str]]], float],
    name: str,
    labels: dict[str, str],
    expected: float,
) -> None:
    assert sample(after_calls, name, **labels) == expected
    if expected == 0.0:  # present, not just absent
        assert (name, frozenset(labels.items())) in after_calls


def test_iam_calls_are_decisions_with_latency(
    after_calls: Mapping[tuple[str, frozenset[tuple[str, str]]], float],
) -> None:
    assert sample(after_calls, "bridge_decision_duration_seconds_count", effect="allowed") >= 2
    assert sample(after_calls, "bridge_http_request_duration_seconds_count", endpoint="/") >= 4


def test_unsigned_sts_past_its_limit_is_throttled(home: Path) -> None:
    client = make_app(home, rate_limit_sts_per_minute=2).test_client()
    answers = [unsigned_call(client, web_identity()) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 400]
    body = answers[-1].get_data(as_text=True)
    assert "<Code>Throttling</Code>" in body and "<Type>Sender</Type>" in body
    assert "<Code>InvalidIdentityToken</Code>" in answers[0].get_data(as_text=True)
    found = samples(client)
    assert sample(found, "bridge_refusals_total", reason="Throttling") == 1.0
    assert sample(found, "bridge_rate_limited_total", scope="sts") == 1.0


def test_signed_calls_are_not_limited_by_the_sts_limit(home: Path) -> None:
    client = make_app(home, rate_limit_sts_per_minute=1).test_client()
    for _ in range(3):
        answer = signed_call(client, home, "sts", {**STS, "Action": "GetCallerIdentity"})
        assert answer.status_code == 200


AUDIT_METRICS = (
    "bridge_audit_events_written_total",
    "bridge_audit_events_lost_total",
    "bridge_audit_queue_depth",
)


def test_audit_queue_counts_in_readyz_and_metrics_match_the_stored_events(home: Path) -> None:
    app = make_app(home, audit_flush_ms=600_000)  # only a flush stores: the queue is seen
    client = app.test_client()
    for name in ("audit-a", "audit-b", "audit-b"):  # the second audit-b is refused
        signed_call(client, home, "iam", {**IAM, "Action": "CreateUser", "UserName": name})
    queued = client.get("/readyz").get_json()["audit"]
    services = app.extensions["bridge"]
    assert services.audit.flush(5.0)
    after = client.get("/readyz").get_json()["audit"]
    found = samples(client)
    with services.store.transaction() as uow:
        stored = uow.audit.query(since=None, until=None, principal=None, event="CreateUser",
                                 limit=10)  # fmt: skip
    assert (queued, after) == (
        {"queue_depth": 3, "written": 0, "lost": 0},
        {"queue_depth": 0, "written": 3, "lost": 0},
    )
    mine = [r for r in reversed(stored) if '"audit-' in r.parameters]
    assert [(r.result, r.error_code) for r in mine] == [
        ("success", None), ("success", None), ("failure", "EntityAlreadyExists"),
    ]  # fmt: skip
    assert [sample(found, name) for name in AUDIT_METRICS] == [3.0, 0.0, 0.0]
    services.close()
