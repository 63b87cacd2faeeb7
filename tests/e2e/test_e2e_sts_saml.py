"""AssumeRoleWithSAML through boto3 against a live bridge, with responses signed by test keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.data.saml.gen import (
    AssertionSpec,
    build_metadata,
    build_response,
    clone,
    keypair,
    signed_response,
    to_b64,
)
from tests.e2e.live import REGION, LiveBridge

ATTR = "https://aws.amazon.com/SAML/Attributes/"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def setup(bridge: LiveBridge) -> dict[str, str]:
    iam: Any = bridge.client("iam")
    provider = iam.create_saml_provider(
        Name="TestIdP", SAMLMetadataDocument=build_metadata(keypair("idp"))
    )
    provider_arn = provider["SAMLProviderArn"]
    acs = f"{bridge.url}/saml/acs"
    for name in ("saml-dev", "saml-ops"):
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"],
                    "Condition": {"StringEquals": {"saml:aud": acs}},
                }
            ],
        }
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return {"provider": provider_arn, "acs": acs, "entity": f"{bridge.url}/saml/metadata"}


def spec(
    setup: dict[str, str],
    *,
    assertion_id: str,
    roles: tuple[str, ...] = ("saml-dev",),
    **changes: Any,
) -> AssertionSpec:
    pairs = tuple(f"arn:aws:iam::{ACCOUNT}:role/{role},{setup['provider']}" for role in roles)
    attributes = (
        (ATTR + "Role", None, pairs),
        (ATTR + "RoleSessionName", None, ("alice@example.com",)),
        (ATTR + "PrincipalTag:team", None, ("core",)),
        ("urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "eduPersonAffiliation", ("staff",)),
    )
    base = AssertionSpec(
        now=datetime.now(UTC),
        assertion_id=assertion_id,
        audience=setup["entity"],
        recipient=setup["acs"],
        attributes=attributes,
    )
    return base.but(**changes) if changes else base


def assume(
    bridge: LiveBridge, setup: dict[str, str], assertion: str, role: str = "saml-dev"
) -> Any:
    sts = boto3.client(
        "sts",
        endpoint_url=bridge.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED),
    )
    return sts.assume_role_with_saml(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
        PrincipalArn=setup["provider"],
        SAMLAssertion=assertion,
    )


def code_of(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_signed_assertion_gives_credentials(bridge: LiveBridge, setup: dict[str, str]) -> None:
    response = signed_response(spec(setup, assertion_id="_ok-1"), destination=setup["acs"])
    result = assume(bridge, setup, to_b64(response))
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert (
        result["AssumedRoleUser"]["Arn"]
        == f"arn:aws:sts::{ACCOUNT}:assumed-role/saml-dev/alice@example.com"
    )
    assert result["Subject"] == "alice@example.com"
    assert result["SubjectType"] == "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    assert result["Audience"] == setup["acs"]
    assert result["Issuer"] == "https://idp.example.test/saml/metadata"
    assert result["NameQualifier"]


def test_replay_is_refused_but_another_role_may_be_opened(
    bridge: LiveBridge, setup: dict[str, str]
) -> None:
    assertion = to_b64(
        signed_response(
            spec(setup, assertion_id="_replay-1", roles=("saml-dev", "saml-ops")),
            destination=setup["acs"],
        )
    )
    assume(bridge, setup, assertion)
    with pytest.raises(ClientError) as caught:
        assume(bridge, setup, assertion)
    assert code_of(caught) == "InvalidIdentityToken"
    assert "already used" in caught.value.response["Error"]["Message"]
    assert assume(bridge, setup, assertion, role="saml-ops")["Credentials"][
        "AccessKeyId"
    ].startswith("ASIA")


def test_rewrapped_assertion_is_still_a_replay(bridge: LiveBridge, setup: dict[str, str]) -> None:
    original = signed_response(spec(setup, assertion_id="_rewrap-1"), destination=setup["acs"])
    assume(bridge, setup, to_b64(original))
    assertion = clone(original[-1])
    rewrapped = build_response(
        assertion, now=datetime.now(UTC), response_id="_other-response", destination=setup["acs"]
    )
    with pytest.raises(ClientError) as caught:
        assume(bridge, setup, to_b64(rewrapped))
    assert code_of(caught) == "InvalidIdentityToken"


@pytest.mark.parametrize(
    ("changes", "signer", "code"),
    [
        ({"audience": "https://someone-else.example/saml/metadata"}, "idp", "InvalidIdentityToken"),
        ({"recipient": "https://someone-else.example/saml/acs"}, "idp", "InvalidIdentityToken"),
        ({"now": datetime.now(UTC) - timedelta(hours=2)}, "idp", "ExpiredTokenException"),
        ({}, "attacker", "InvalidIdentityToken"),
        ({"roles": ("saml-ops",)}, "idp", "AccessDenied"),
    ],
    ids=[
        "wrong-audience",
        "wrong-recipient",
        "expired",
        "attacker-signed",
        "role-not-in-assertion",
    ],
)
def test_bad_assertions_are_refused(
    bridge: LiveBridge, setup: dict[str, str], changes: dict[str, Any], signer: str, code: str
) -> None:
    changes = dict(changes)  # the parameter dict is shared by both backends' runs
    roles = changes.pop("roles", ("saml-dev",))
    response = signed_response(
        spec(
            setup,
            assertion_id=f"_bad-{code}-{signer}-{len(changes)}-{roles[0]}",
            roles=roles,
            **changes,
        ),
        destination=setup["acs"],
        signer=signer,
    )
    with pytest.raises(ClientError) as caught:
        assume(bridge, setup, to_b64(response))
    assert code_of(caught) == code


def test_unsigned_assertion_is_refused(bridge: LiveBridge, setup: dict[str, str]) -> None:
    response = signed_response(
        spec(setup, assertion_id="_unsigned-1"), sign_assertion=False, destination=setup["acs"]
    )
    with pytest.raises(ClientError) as caught:
        assume(bridge, setup, to_b64(response))
    assert code_of(caught) == "InvalidIdentityToken"
