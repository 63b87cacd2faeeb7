"""botocore's own web-identity credential provider gets its credentials from the bridge.

The environment is what a Kubernetes pod with a projected service-account token has:
`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`, no static keys
(and empty config files), plus `AWS_ENDPOINT_URL_STS` pointing at the bridge. Refresh is
shown by moving botocore's clock forward (the credentials last an hour), not by waiting.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from tests.e2e.idp import LocalIdP
from tests.e2e.live import REGION, LiveBridge

SESSION_NAME = "botocore-provider"
STATIC_KEY_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


@pytest.fixture(scope="module")
def role_arn(bridge: LiveBridge, idp: LocalIdP) -> str:
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
                "Condition": {"StringEquals": {f"{host}:aud": "bridge", f"{host}:sub": "alice"}},
            }
        ],
    }
    role = iam.create_role(RoleName="pod-role", AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


@pytest.fixture
def token_file(
    bridge: LiveBridge,
    idp: LocalIdP,
    role_arn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The environment of a pod with a projected token, and the token file (alice's)."""
    token = tmp_path / "token"
    token.write_text(idp.token(), encoding="utf-8")
    for name in STATIC_KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("config", "credentials"):
        (tmp_path / name).write_text("", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    monkeypatch.setenv("AWS_ROLE_ARN", role_arn)
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", SESSION_NAME)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", bridge.url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return token


def provider_credentials() -> Any:
    """What botocore's default chain finds: the web-identity provider's credentials."""
    credentials = boto3.Session().get_credentials()
    assert credentials is not None
    assert credentials.method == "assume-role-with-web-identity"
    return credentials


def advance_clock(monkeypatch: pytest.MonkeyPatch, credentials: Any, by: timedelta) -> None:
    """botocore's notion of now, `by` later: for the credentials object and the provider's
    cache of assume-role responses (each reads the time through its own function)."""

    def later() -> datetime:
        return datetime.now(UTC) + by

    monkeypatch.setattr(credentials, "_time_fetcher", later)
    monkeypatch.setattr(botocore.credentials, "_local_now", later)


# 52 minutes on, an hour's credentials are inside botocore's mandatory refresh window
# (10 minutes), so a refresh must happen and its errors reach the caller.
NEAR_EXPIRY = timedelta(minutes=52)


def test_provider_gets_temporary_credentials(token_file: Path) -> None:
    frozen = provider_credentials().get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA")
    assert len(frozen.secret_key) == 40
    assert frozen.token


def test_provider_refreshes_near_expiry(token_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = provider_credentials()
    first = credentials.get_frozen_credentials()
    assert not credentials.refresh_needed()
    advance_clock(monkeypatch, credentials, NEAR_EXPIRY)
    assert credentials.refresh_needed()
    second = credentials.get_frozen_credentials()
    assert second.access_key.startswith("ASIA")
    assert second.access_key != first.access_key
    assert second.token != first.token


def test_refresh_reads_the_token_file_again(
    token_file: Path, idp: LocalIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new token in the file is presented at the next refresh: one the trust policy
    refuses makes the mandatory refresh fail with the bridge's AccessDenied."""
    credentials = provider_credentials()
    credentials.get_frozen_credentials()
    token_file.write_text(idp.token(sub="mallory"), encoding="utf-8")
    advance_clock(monkeypatch, credentials, NEAR_EXPIRY)
    with pytest.raises(ClientError) as caught:
        credentials.get_frozen_credentials()
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_new_session_after_token_rotation_gets_new_credentials(
    token_file: Path, idp: LocalIdP
) -> None:
    first = provider_credentials().get_frozen_credentials()
    token_file.write_text(idp.token(jti="rotated"), encoding="utf-8")
    second = provider_credentials().get_frozen_credentials()
    assert second.access_key.startswith("ASIA")
    assert second.access_key != first.access_key


def test_provider_credentials_sign_calls(token_file: Path, role_arn: str) -> None:
    sts = boto3.Session().client("sts")
    identity = sts.get_caller_identity()
    assert identity["Arn"] == (f"arn:aws:sts::123456789012:assumed-role/pod-role/{SESSION_NAME}")
    assert identity["Account"] == "123456789012"
    assert identity["UserId"].endswith(f":{SESSION_NAME}")
