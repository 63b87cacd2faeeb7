"""Signed STS calls and the temporary credentials they give, through boto3 on a live bridge:
credentials work for signed IAM calls within exactly the role's and the session policy's
permissions."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.live import LiveBridge, error_of

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deployer"


def allow(actions: list[str], resource: str = "*") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
        }
    )


@pytest.fixture(scope="module")
def dev(bridge: LiveBridge) -> dict[str, str]:
    """A user allowed to assume `deployer`, whose trust policy trusts the account."""
    iam: Any = bridge.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            },
        ],
    }
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="deployer",
        PolicyName="read",
        PolicyDocument=allow(["iam:ListUsers", "iam:GetUser", "sts:AssumeRole"]),
    )
    for name, policy in (
        ("dev", allow(["sts:AssumeRole"], ROLE_ARN)),
        ("nobody", allow(["iam:GetUser"])),
    ):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    keys = {name: iam.create_access_key(UserName=name)["AccessKey"] for name in ("dev", "nobody")}
    return {f"{n}_{f}": k[f] for n, k in keys.items() for f in ("AccessKeyId", "SecretAccessKey")}


def session_client(bridge: LiveBridge, service: str, credentials: dict[str, Any]) -> Any:
    return boto3.client(
        service,
        endpoint_url=bridge.url,
        region_name="eu-west-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        config=Config(retries={"max_attempts": 1}),
    )


def as_user(bridge: LiveBridge, dev: dict[str, str], name: str, service: str) -> Any:
    return bridge.client(
        service, key=dev[f"{name}_AccessKeyId"], secret=dev[f"{name}_SecretAccessKey"]
    )


def test_assumed_role_credentials_do_what_the_role_allows(
    bridge: LiveBridge, dev: dict[str, str]
) -> None:
    result = as_user(bridge, dev, "dev", "sts").assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="deploy-1"
    )
    creds = result["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    identity = session_client(bridge, "sts", creds).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/deploy-1"
    assert identity["UserId"] == result["AssumedRoleUser"]["AssumedRoleId"]
    iam = session_client(bridge, "iam", creds)
    assert "Users" in iam.list_users()
    with pytest.raises(ClientError) as caught:
        iam.create_user(UserName="intruder")
    code, message = error_of(caught)
    assert code == "AccessDenied" and "iam:CreateUser" in message


def test_session_policy_narrows_the_role(bridge: LiveBridge, dev: dict[str, str]) -> None:
    creds = as_user(bridge, dev, "dev", "sts").assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="narrow", Policy=allow(["iam:GetUser"])
    )["Credentials"]
    iam = session_client(bridge, "iam", creds)
    assert iam.get_user(UserName="dev")["User"]["UserName"] == "dev"
    with pytest.raises(ClientError) as caught:
        iam.list_users()
    assert error_of(caught)[0] == "AccessDenied"


def test_caller_without_permission_cannot_assume(bridge: LiveBridge, dev: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        as_user(bridge, dev, "nobody", "sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="x1")
    assert error_of(caught)[0] == "AccessDenied"


def test_role_chaining_is_capped_at_one_hour(bridge: LiveBridge, dev: dict[str, str]) -> None:
    iam: Any = bridge.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(
        RoleName="chained", AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=14400
    )
    creds = as_user(bridge, dev, "dev", "sts").assume_role(
        RoleArn=ROLE_ARN, RoleSessionName="first"
    )["Credentials"]
    sts = session_client(bridge, "sts", creds)
    chained_arn = f"arn:aws:iam::{ACCOUNT}:role/chained"
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=chained_arn, RoleSessionName="second", DurationSeconds=7200)
    assert error_of(caught)[0] in {"ValidationError", "InvalidInput"}
    second = sts.assume_role(RoleArn=chained_arn, RoleSessionName="second")
    assert second["AssumedRoleUser"]["Arn"].endswith("assumed-role/chained/second")


def test_session_token_credentials_identify_the_user(
    bridge: LiveBridge, dev: dict[str, str]
) -> None:
    creds = as_user(bridge, dev, "dev", "sts").get_session_token(DurationSeconds=900)["Credentials"]
    assert (
        session_client(bridge, "sts", creds).get_caller_identity()["Arn"]
        == f"arn:aws:iam::{ACCOUNT}:user/dev"
    )
    with pytest.raises(ClientError) as caught:
        session_client(bridge, "iam", creds).get_user(UserName="dev")
    assert error_of(caught)[0] == "AccessDenied"


def test_federation_token_is_a_federated_user(bridge: LiveBridge, dev: dict[str, str]) -> None:
    result = as_user(bridge, dev, "nobody", "sts").get_federation_token(
        Name="contractor", Policy=allow(["iam:GetUser"])
    )
    assert result["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/contractor"
    identity = session_client(bridge, "sts", result["Credentials"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/contractor"


def test_tampered_session_token_is_refused(bridge: LiveBridge, dev: dict[str, str]) -> None:
    creds = dict(
        as_user(bridge, dev, "dev", "sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="tamper")[
            "Credentials"
        ]
    )
    token = creds["SessionToken"]
    creds["SessionToken"] = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(ClientError) as caught:
        session_client(bridge, "sts", creds).get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"


def test_revoked_session_stops_working(bridge: LiveBridge, dev: dict[str, str]) -> None:
    sts = as_user(bridge, dev, "dev", "sts")
    creds = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="revoke-me")["Credentials"]
    other = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="keep-me")["Credentials"]
    session = session_client(bridge, "sts", creds)
    assert session.get_caller_identity()["Arn"].endswith("/revoke-me")
    result = bridge.cli("sessions", "revoke", "--session", creds["AccessKeyId"])
    assert result.returncode == 0, result.stderr
    time.sleep(1.2)  # revocations are cached about a second per process
    with pytest.raises(ClientError) as caught:
        session.get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"
    assert session_client(bridge, "sts", other).get_caller_identity()["Arn"].endswith("/keep-me")


def test_revoking_a_role_ends_its_earlier_sessions(bridge: LiveBridge, dev: dict[str, str]) -> None:
    sts = as_user(bridge, dev, "dev", "sts")
    before = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="before-cut")["Credentials"]
    result = bridge.cli("sessions", "revoke", "--role", "deployer")
    assert result.returncode == 0, result.stderr
    time.sleep(1.2)
    with pytest.raises(ClientError) as caught:
        session_client(bridge, "sts", before).get_caller_identity()
    assert error_of(caught)[0] == "InvalidClientTokenId"
    after = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="after-cut")["Credentials"]
    assert session_client(bridge, "sts", after).get_caller_identity()["Arn"].endswith("/after-cut")


def test_revoke_needs_exactly_one_target(bridge: LiveBridge) -> None:
    result = bridge.cli("sessions", "revoke")
    assert result.returncode == 2
    assert "exactly one of --session, --role, --user" in result.stderr
