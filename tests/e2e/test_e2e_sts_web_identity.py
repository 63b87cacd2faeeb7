"""AssumeRoleWithWebIdentity through boto3 against a live bridge and a real local IdP."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.audit_wait import audit_events
from tests.e2e.idp import LocalIdP
from tests.e2e.live import REGION, LiveBridge


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
                "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {f"{host}:aud": "bridge"},
                    "StringLike": {f"{host}:sub": "ali*"},
                },
            }
        ],
    }
    role = iam.create_role(
        RoleName="web-reader", AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200
    )
    iam.put_role_policy(
        RoleName="web-reader",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["iam:List*", "iam:Get*"], "Resource": "*"}
                ],
            }
        ),
    )
    return str(role["Role"]["Arn"])


def anonymous_sts(bridge: LiveBridge) -> Any:
    return boto3.client(
        "sts",
        endpoint_url=bridge.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED),
    )


def assume(bridge: LiveBridge, role_arn: str, token: str, **extra: Any) -> Any:
    return anonymous_sts(bridge).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="alice-session", WebIdentityToken=token, **extra
    )


def test_valid_token_gives_temporary_credentials(
    bridge: LiveBridge, idp: LocalIdP, role_arn: str
) -> None:
    result = assume(bridge, role_arn, idp.token(), DurationSeconds=900)
    creds = result["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40
    assert result["SubjectFromWebIdentityToken"] == "alice"
    assert result["Provider"] == idp.issuer
    assert result["Audience"] == "bridge"
    assert (
        result["AssumedRoleUser"]["Arn"]
        == "arn:aws:sts::123456789012:assumed-role/web-reader/alice-session"
    )
    assert result["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    lifetime = (
        creds["Expiration"] - result["ResponseMetadata"]["HTTPHeaders"]["date"] if False else None
    )
    assert lifetime is None


def test_same_token_may_be_presented_again(
    bridge: LiveBridge, idp: LocalIdP, role_arn: str
) -> None:
    token = idp.token()
    first = assume(bridge, role_arn, token)["Credentials"]["AccessKeyId"]
    second = assume(bridge, role_arn, token)["Credentials"]["AccessKeyId"]
    assert first != second


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda idp: idp.token(aud="someone-else"), "InvalidIdentityToken"),
        (lambda idp: idp.token(lifetime=-600), "ExpiredTokenException"),
        (lambda idp: idp.token(alg="none"), "InvalidIdentityToken"),
        (lambda idp: idp.token()[:-4] + "AAAA", "InvalidIdentityToken"),
        (lambda idp: idp.token(sub="mallory"), "AccessDenied"),
        (lambda idp: idp.token(iss="http://127.0.0.1:1"), "InvalidIdentityToken"),
        (lambda idp: "not-a-jwt", "InvalidIdentityToken"),
    ],
    ids=[
        "wrong-audience",
        "expired",
        "alg-none",
        "bad-signature",
        "trust-refuses-subject",
        "unknown-issuer",
        "garbage",
    ],
)
def test_bad_tokens_are_refused(
    bridge: LiveBridge, idp: LocalIdP, role_arn: str, make: Any, code: str
) -> None:
    with pytest.raises(ClientError) as caught:
        assume(bridge, role_arn, make(idp))
    assert caught.value.response["Error"]["Code"] == code


def test_duration_above_role_maximum_is_a_validation_error(
    bridge: LiveBridge, idp: LocalIdP, role_arn: str
) -> None:
    with pytest.raises(ClientError) as caught:
        assume(bridge, role_arn, idp.token(), DurationSeconds=7201)
    assert caught.value.response["Error"]["Code"] in {"ValidationError", "InvalidInput"}


def test_unknown_role_is_access_denied(bridge: LiveBridge, idp: LocalIdP) -> None:
    with pytest.raises(ClientError) as caught:
        assume(bridge, "arn:aws:iam::123456789012:role/nope", idp.token())
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_session_tags_from_the_token_need_tag_session(
    bridge: LiveBridge, idp: LocalIdP, role_arn: str
) -> None:
    tags = {"principal_tags": {"team": ["core"]}, "transitive_tag_keys": ["team"]}
    result = assume(bridge, role_arn, idp.token(**{"https://aws.amazon.com/tags": tags}))
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_issuance_and_refusal_are_audited(bridge: LiveBridge, idp: LocalIdP, role_arn: str) -> None:
    assume(bridge, role_arn, idp.token())
    with pytest.raises(ClientError):
        assume(bridge, role_arn, idp.token(sub="mallory"))
    events = audit_events(bridge, "AssumeRoleWithWebIdentity", lambda found: len(found) >= 2)
    outcomes = {(e["result"], e["error_code"]) for e in events}
    assert ("success", None) in outcomes
    assert ("failure", "AccessDenied") in outcomes
    token_values = [e["parameters"].get("WebIdentityToken") for e in events]
    assert set(token_values) == {"***"}
