"""No secret reaches the log: a live bridge serves calls that carry secret access keys,
session tokens, web identity tokens (in a form body and in a query string), a SAML
assertion, login-profile passwords and an MFA seed; its whole log is then searched for
each of those strings."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.idp import LocalIdP
from tests.e2e.live import REGION, LiveBridge, clean_env, start_bridge

PASSWORDS = ("Log-Test-Passw0rd-First!", "Log-Test-Passw0rd-Second!")
SAML_MARKER = "saml-secret-marker-7f3a9c"


@dataclass
class Secrets:
    """Every secret the calls carried or received, by what it is."""

    found: dict[str, str] = field(default_factory=dict)

    def add(self, what: str, value: str | bytes) -> None:
        text = value.decode() if isinstance(value, bytes) else value
        assert len(text) >= 16, what  # long enough that a match is not chance
        self.found[what] = text


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    home = tmp_path_factory.mktemp("no-secrets") / "home"
    yield from start_bridge(home, clean_env({}))


def log_of(bridge: LiveBridge) -> str:
    """What `bridge serve` wrote (stdout and stderr), as `start_bridge` captures it."""
    return (bridge.home.parent / f"{bridge.home.name}-serve.log").read_text(errors="replace")


def json_lines(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


def anonymous_sts(bridge: LiveBridge) -> Any:
    config = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
    return boto3.client("sts", endpoint_url=bridge.url, region_name=REGION, config=config)


def web_identity_role(bridge: LiveBridge, idp: LocalIdP) -> str:
    iam: Any = bridge.client("iam")
    provider = iam.create_open_id_connect_provider(Url=idp.issuer, ClientIDList=["bridge"])
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider["OpenIDConnectProviderArn"]},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    role = iam.create_role(RoleName="log-test", AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def iam_secrets(bridge: LiveBridge, secrets: Secrets) -> None:
    iam: Any = bridge.client("iam")
    secrets.add("admin secret access key", bridge.secret_access_key)
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    secrets.add("user secret access key", key["SecretAccessKey"])
    iam.create_login_profile(UserName="carol", Password=PASSWORDS[0])
    secrets.add("login profile password", PASSWORDS[0])
    iam.update_login_profile(UserName="carol", Password=PASSWORDS[1])
    secrets.add("changed password", PASSWORDS[1])
    with pytest.raises(ClientError):  # a refused call with a password in it
        iam.create_login_profile(UserName="nobody-here", Password=PASSWORDS[0])
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="carol-phone")
    secrets.add("MFA seed", mfa["VirtualMFADevice"]["Base32StringSeed"])


def session_secrets(bridge: LiveBridge, secrets: Secrets) -> None:
    creds = bridge.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    secrets.add("session secret access key", creds["SecretAccessKey"])
    secrets.add("session token", creds["SessionToken"])
    session_sts: Any = boto3.client(
        "sts",
        endpoint_url=bridge.url,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )
    session_sts.get_caller_identity()


def federation_secrets(bridge: LiveBridge, idp: LocalIdP, secrets: Secrets) -> None:
    sts = anonymous_sts(bridge)
    role_arn = web_identity_role(bridge, idp)
    token = idp.token(sub="log-test-user")
    secrets.add("web identity token", token)
    granted = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="log-test", WebIdentityToken=token
    )["Credentials"]
    secrets.add("federated secret access key", granted["SecretAccessKey"])
    secrets.add("federated session token", granted["SessionToken"])
    refused = idp.token(aud="someone-else")
    secrets.add("refused web identity token", refused)
    with pytest.raises(ClientError):
        sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="log-test", WebIdentityToken=refused
        )
    in_query = idp.token(sub="query-string-user")
    secrets.add("web identity token in a query string", in_query)
    query = urlencode(
        {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": role_arn,
            "RoleSessionName": "log-test",
            "WebIdentityToken": in_query,
        }
    )
    with urllib.request.urlopen(f"{bridge.url}/?{query}", timeout=10) as answer:
        assert answer.status == 200
    assertion = base64.b64encode(f"<Response>{SAML_MARKER}</Response>".encode()).decode()
    secrets.add("SAML assertion", SAML_MARKER)
    with pytest.raises(ClientError):
        sts.assume_role_with_saml(
            RoleArn=role_arn,
            PrincipalArn="arn:aws:iam::123456789012:saml-provider/none",
            SAMLAssertion=assertion,
        )


@pytest.fixture(scope="module")
def carried(live: LiveBridge, idp: LocalIdP) -> Secrets:
    secrets = Secrets()
    iam_secrets(live, secrets)
    session_secrets(live, secrets)
    federation_secrets(live, idp, secrets)
    return secrets


def test_the_log_holds_the_calls_but_none_of_their_secrets(
    live: LiveBridge, carried: Secrets
) -> None:
    log = log_of(live)
    lines = json_lines(log)
    messages = "\n".join(
        m if isinstance(m, str) else json.dumps(m) for m in (line["message"] for line in lines)
    )
    access = [str(line["message"]) for line in lines if line["logger"] == "bridge.access"]
    assert sum(m.startswith("POST / 200 ") for m in access) >= 8  # the calls were logged
    assert any(m.startswith("GET / 200 ") for m in access)  # the query string was not
    leaked = sorted(
        what for what, secret in carried.found.items() if secret in log or secret in messages
    )
    assert leaked == []


def test_log_lines_are_json_with_request_ids(live: LiveBridge, carried: Secrets) -> None:
    lines = json_lines(log_of(live))
    audit = [line for line in lines if line["logger"] == "bridge.audit"]
    assert audit, "no audit line was logged"
    in_requests = [line for line in lines if line["logger"].startswith("bridge.")]
    assert all(line["request_id"] for line in in_requests)
    events = [line["message"] for line in audit]  # the event itself, as an object
    assert all(isinstance(event, dict) for event in events)
    assert {e["request_id"] for e in events} == {line["request_id"] for line in audit}
    assert len(carried.found) >= 12
