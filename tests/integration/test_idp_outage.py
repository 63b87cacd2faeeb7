"""An identity provider whose JWKS is unreachable: the keys fetched earlier keep verifying
tokens until they go stale (24 h after the last good fetch), every failed refresh is
counted in `/metrics` and logged, and afterwards tokens are refused, never accepted
unchecked. A real IdP over HTTP that is shut down, a pinned clock."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.e2e.idp import LocalIdP, running_idp
from tests.support.login_app import LoginApp, make_login_app

ROLE = "outage-reader"
FAILURES = 'bridge_idp_refreshes_total{kind="jwks",result="failure"}'


def _trust(issuer: str, provider_arn: str) -> str:
    host = issuer.split("://", 1)[1]
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": "bridge"}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _assume(client: FlaskClient, login: LoginApp, idp: LocalIdP) -> tuple[int, str]:
    now = int(login.clock.now().timestamp())
    token = idp.token(iat=now, exp=now + 600)
    answer = client.post(
        "/",
        data={
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": f"arn:aws:iam::123456789012:role/{ROLE}",
            "RoleSessionName": "outage",
            "WebIdentityToken": token,
        },
    )
    return answer.status_code, answer.get_data(as_text=True)


def _failures(client: FlaskClient) -> float:
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(FAILURES):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_cached_keys_outlive_the_idp_until_stale(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    login = make_login_app(tmp_path)
    client = login.client()
    with running_idp() as idp:
        provider = login.directory.oidc_providers.create(idp.issuer, client_ids=["bridge"])
        login.directory.roles.create(ROLE, _trust(idp.issuer, provider.arn))
        assert _assume(client, login, idp)[0] == 200
    # the IdP is gone; past the keys' 1 h TTL a refresh is due and fails
    login.clock.advance(timedelta(hours=2).total_seconds())
    with caplog.at_level(logging.WARNING):
        status, body = _assume(client, login, idp)
    assert status == 200, body
    assert _failures(client) == 1.0
    assert idp.issuer in caplog.text
    # 24 h after the last good fetch the keys are stale: refused, with the reason
    login.clock.advance(timedelta(hours=23).total_seconds())
    status, body = _assume(client, login, idp)
    assert status == 400
    assert "IDPCommunicationError" in body
    assert _failures(client) == 2.0
