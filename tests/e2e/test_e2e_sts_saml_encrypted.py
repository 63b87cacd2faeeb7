"""Encrypted assertions against a live bridge: the IdP encrypts for the SP certificate that
`bridge init` wrote in the home; one encrypted for another key is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.data.saml.gen import (
    AssertionSpec,
    KeyPair,
    build_assertion,
    build_metadata,
    build_response,
    encrypt,
    keypair,
    sign,
    to_b64,
)
from tests.e2e.live import REGION, LiveBridge

ATTR = "https://aws.amazon.com/SAML/Attributes/"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/saml-encrypted"


@pytest.fixture(scope="module")
def provider_arn(bridge: LiveBridge) -> str:
    iam: Any = bridge.client("iam")
    arn = str(
        iam.create_saml_provider(
            Name="EncIdP", SAMLMetadataDocument=build_metadata(keypair("idp"))
        )["SAMLProviderArn"]
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithSAML"}
        ],
    }
    iam.create_role(RoleName="saml-encrypted", AssumeRolePolicyDocument=json.dumps(trust))
    return arn


def _bridge_certificate(bridge: LiveBridge) -> KeyPair:
    """Only the certificate: an IdP never has the SP's private key."""
    return KeyPair("bridge-sp", b"", (bridge.home / "sp-cert.pem").read_bytes())


def _encrypted_response(bridge: LiveBridge, provider: str, target: KeyPair, aid: str) -> str:
    spec = AssertionSpec(
        now=datetime.now(UTC),
        assertion_id=aid,
        audience=f"{bridge.url}/saml/metadata",
        recipient=f"{bridge.url}/saml/acs",
        attributes=(
            (ATTR + "Role", None, (f"{ROLE_ARN},{provider}",)),
            (ATTR + "RoleSessionName", None, ("carol@example.com",)),
        ),
    )
    assertion = encrypt(sign(build_assertion(spec), keypair("idp")), target)
    return to_b64(build_response(assertion, now=spec.now, destination=f"{bridge.url}/saml/acs"))


def _assume(bridge: LiveBridge, provider: str, assertion: str) -> Any:
    sts: Any = boto3.client(
        "sts",
        endpoint_url=bridge.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED),
    )
    return sts.assume_role_with_saml(
        RoleArn=ROLE_ARN, PrincipalArn=provider, SAMLAssertion=assertion
    )


def test_sp_key_is_private_in_the_home(bridge: LiveBridge) -> None:
    assert (bridge.home / "sp-key.pem").stat().st_mode & 0o777 == 0o600
    assert b"BEGIN CERTIFICATE" in (bridge.home / "sp-cert.pem").read_bytes()


def test_assertion_encrypted_for_the_bridge_gives_credentials(
    bridge: LiveBridge, provider_arn: str
) -> None:
    response = _encrypted_response(bridge, provider_arn, _bridge_certificate(bridge), "_enc-ok")
    result = _assume(bridge, provider_arn, response)
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert result["AssumedRoleUser"]["Arn"].endswith(
        ":assumed-role/saml-encrypted/carol@example.com"
    )


def test_assertion_encrypted_for_another_key_is_refused(
    bridge: LiveBridge, provider_arn: str
) -> None:
    response = _encrypted_response(bridge, provider_arn, keypair("sp"), "_enc-other")
    with pytest.raises(ClientError) as caught:
        _assume(bridge, provider_arn, response)
    assert caught.value.response["Error"]["Code"] == "InvalidIdentityToken"
