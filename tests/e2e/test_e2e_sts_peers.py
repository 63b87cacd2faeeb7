"""AssumeRoleWithWebIdentity and AssumeRoleWithSAML against a live bridge with tokens and
responses from the REAL identity-provider peers (`../shared/peers`): oidc-provider and
SimpleSAMLphp, each signed in to over plain HTTP by `tests/support`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.live import REGION, LiveBridge, error_of
from tests.support.oidc_peer import OIDCPeer, id_token, running_oidc_peer
from tests.support.saml_peer import SAMLPeer, running_saml_peer, saml_response

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
ATTR = "https://aws.amazon.com/SAML/Attributes/"
SAML_ROLE = "peer-saml-admin"
SAML_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{SAML_ROLE}"
ROLES_PROVIDER = "PeerIdPWithRoles"
ROLES_PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/{ROLES_PROVIDER}"


def anonymous_sts(bridge: LiveBridge) -> Any:
    return boto3.client(
        "sts",
        endpoint_url=bridge.url,
        region_name=REGION,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def create_role(
    bridge: LiveBridge, name: str, federated: str, action: str, when: dict[str, str]
) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": federated},
                "Action": action,
                "Condition": {"StringEquals": when},
            }
        ],
    }
    role = bridge.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
    )
    return str(role["Role"]["Arn"])


# --- OpenID Connect: oidc-provider's ID tokens as web identities -----------------------------


@pytest.fixture(scope="module")
def oidc_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OIDCPeer]:
    with running_oidc_peer(tmp_path_factory.mktemp("oidc-peer")) as peer:
        yield peer


@pytest.fixture(scope="module")
def oidc_role(bridge: LiveBridge, oidc_peer: OIDCPeer) -> str:
    iam: Any = bridge.client("iam")
    provider = iam.create_open_id_connect_provider(Url=oidc_peer.issuer, ClientIDList=["bridge"])
    when = {f"{oidc_peer.host}:aud": "bridge", f"{oidc_peer.host}:sub": "alice"}
    federated = provider["OpenIDConnectProviderArn"]
    return create_role(bridge, "peer-oidc-alice", federated, "sts:AssumeRoleWithWebIdentity", when)


def assume_with_token(bridge: LiveBridge, role_arn: str, token: str) -> Any:
    return anonymous_sts(bridge).assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName="peer-session", WebIdentityToken=token
    )


def test_oidc_peer_id_token_gives_credentials(
    bridge: LiveBridge, oidc_peer: OIDCPeer, oidc_role: str
) -> None:
    result = assume_with_token(bridge, oidc_role, id_token(oidc_peer, "alice"))
    credentials = result["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert credentials["SecretAccessKey"] and credentials["SessionToken"]
    assert result["SubjectFromWebIdentityToken"] == "alice"
    assert (result["Provider"], result["Audience"]) == (oidc_peer.issuer, "bridge")
    assert result["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/peer-oidc-alice/peer-session"
    )


def test_oidc_peer_token_of_another_subject_is_refused_by_trust(
    bridge: LiveBridge, oidc_peer: OIDCPeer, oidc_role: str
) -> None:
    with pytest.raises(ClientError) as caught:
        assume_with_token(bridge, oidc_role, id_token(oidc_peer, "bob"))
    assert error_of(caught)[0] == "AccessDenied"


# --- SAML: SimpleSAMLphp's signed responses, as shipped and with the AWS attributes ----------


def bridge_sp(bridge: LiveBridge) -> tuple[str, str]:
    """The bridge's own SP identity: (entity ID, ACS URL)."""
    return f"{bridge.url}/saml/metadata", f"{bridge.url}/saml/acs"


@pytest.fixture(scope="module")
def plain_saml_peer(
    bridge: LiveBridge, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SAMLPeer]:
    """The peer as shipped: no AWS Role or RoleSessionName attributes."""
    with running_saml_peer(tmp_path_factory.mktemp("saml-plain"), *bridge_sp(bridge)) as peer:
        yield peer


def aws_attributes(username: str) -> dict[str, list[str]]:
    return {
        ATTR + "Role": [f"{SAML_ROLE_ARN},{ROLES_PROVIDER_ARN}"],
        ATTR + "RoleSessionName": [username],
    }


@pytest.fixture(scope="module")
def roles_saml_peer(
    bridge: LiveBridge, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SAMLPeer]:
    """A copy of the peer that also sends the AWS attributes for alice and bob (not carol)."""
    extra = {user: aws_attributes(user) for user in ("alice", "bob")}
    workdir = tmp_path_factory.mktemp("saml-roles")
    with running_saml_peer(workdir, *bridge_sp(bridge), extra=extra) as peer:
        yield peer


def register_saml_peer(bridge: LiveBridge, name: str, peer: SAMLPeer) -> str:
    iam: Any = bridge.client("iam")
    created = iam.create_saml_provider(Name=name, SAMLMetadataDocument=peer.metadata)
    return str(created["SAMLProviderArn"])


@pytest.fixture(scope="module")
def saml_providers(
    bridge: LiveBridge, plain_saml_peer: SAMLPeer, roles_saml_peer: SAMLPeer
) -> dict[str, str]:
    """Both peers registered from the metadata they wrote, and a role trusting the second
    for alice only."""
    arns = {
        "PeerIdP": register_saml_peer(bridge, "PeerIdP", plain_saml_peer),
        ROLES_PROVIDER: register_saml_peer(bridge, ROLES_PROVIDER, roles_saml_peer),
    }
    assert arns[ROLES_PROVIDER] == ROLES_PROVIDER_ARN
    when = {"saml:aud": bridge_sp(bridge)[1], "saml:sub": "alice@example.com"}
    create_role(bridge, SAML_ROLE, ROLES_PROVIDER_ARN, "sts:AssumeRoleWithSAML", when)
    return arns


def assume_with_saml(bridge: LiveBridge, provider_arn: str, response: str) -> Any:
    return anonymous_sts(bridge).assume_role_with_saml(
        RoleArn=SAML_ROLE_ARN, PrincipalArn=provider_arn, SAMLAssertion=response
    )


def test_saml_peer_response_without_aws_role_attribute_is_refused(
    bridge: LiveBridge, plain_saml_peer: SAMLPeer, saml_providers: dict[str, str]
) -> None:
    """The real IdP's signature verifies; the refusal comes from the missing Role attribute."""
    response = saml_response(plain_saml_peer, "alice")
    with pytest.raises(ClientError) as caught:
        assume_with_saml(bridge, saml_providers["PeerIdP"], response)
    code, message = error_of(caught)
    assert code == "AccessDenied"
    assert "Role attribute" in message and SAML_ROLE_ARN in message


def _garble_subject(response: str) -> str:
    xml = base64.b64decode(response)
    assert b"alice@example.com" in xml
    return base64.b64encode(xml.replace(b"alice@example.com", b"admin@example.com")).decode()


GARBLED: dict[str, Callable[[str], str]] = {
    "signed-subject-changed": _garble_subject,
    "truncated": lambda response: response[: len(response) // 2],
    "not-xml": lambda response: base64.b64encode(b"<not-saml").decode(),
}


@pytest.mark.parametrize("garble", GARBLED.values(), ids=GARBLED.keys())
def test_saml_peer_response_garbled_is_an_invalid_token(
    bridge: LiveBridge,
    plain_saml_peer: SAMLPeer,
    saml_providers: dict[str, str],
    garble: Callable[[str], str],
) -> None:
    response = garble(saml_response(plain_saml_peer, "alice"))
    with pytest.raises(ClientError) as caught:
        assume_with_saml(bridge, saml_providers["PeerIdP"], response)
    assert error_of(caught)[0] == "InvalidIdentityToken"


def test_saml_peer_with_aws_attributes_gives_alice_credentials(
    bridge: LiveBridge, roles_saml_peer: SAMLPeer, saml_providers: dict[str, str]
) -> None:
    response = saml_response(roles_saml_peer, "alice")
    result = assume_with_saml(bridge, ROLES_PROVIDER_ARN, response)
    assert result["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert result["Credentials"]["SessionToken"]
    assert result["AssumedRoleUser"]["Arn"] == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{SAML_ROLE}/alice"
    )
    assert (result["Subject"], result["Issuer"]) == ("alice@example.com", roles_saml_peer.entity_id)
    assert result["Audience"] == bridge_sp(bridge)[1]
    with pytest.raises(ClientError) as caught:
        assume_with_saml(bridge, ROLES_PROVIDER_ARN, response)
    assert error_of(caught)[0] == "InvalidIdentityToken"
    assert "already used" in error_of(caught)[1]


REFUSED_USERS = {
    "bob-trust-refuses-subject": ("bob", f"sts:AssumeRoleWithSAML on {SAML_ROLE_ARN}"),
    "carol-no-role-attribute": ("carol", "the assertion's Role attribute does not name"),
}


@pytest.mark.parametrize(("username", "fragment"), REFUSED_USERS.values(), ids=REFUSED_USERS.keys())
def test_saml_peer_with_aws_attributes_refuses_others(
    bridge: LiveBridge,
    roles_saml_peer: SAMLPeer,
    saml_providers: dict[str, str],
    username: str,
    fragment: str,
) -> None:
    with pytest.raises(ClientError) as caught:
        assume_with_saml(bridge, ROLES_PROVIDER_ARN, saml_response(roles_saml_peer, username))
    code, message = error_of(caught)
    assert code == "AccessDenied"
    assert fragment in message
