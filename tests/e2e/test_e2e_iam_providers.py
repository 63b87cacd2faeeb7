"""IAM SAML and OpenID Connect providers through boto3 against a live bridge (SQLite and
PostgreSQL)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.live import LiveBridge, error_of

ACCOUNT = "123456789012"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def self_signed_certificate() -> str:
    """A fresh self-signed signing certificate, base64 DER as in `ds:X509Certificate`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.example.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def idp_metadata(valid_until: str = "2030-01-01T00:00:00Z", *, inner: str | None = None) -> str:
    """IdP metadata (SAML metadata 2.3.2 / 2.4.3) with a signing key and an SSO endpoint."""
    descriptor = inner or (
        f'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{self_signed_certificate()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        f"</md:KeyDescriptor>"
        f'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="https://idp.example.com/sso"/></md:IDPSSODescriptor>'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" '
        f'entityID="https://idp.example.com/metadata" validUntil="{valid_until}">'
        f"{descriptor}</md:EntityDescriptor>"
    ).ljust(1000)


def saml_arns(iam: Any) -> list[str]:
    return [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]]


# --- SAML providers ------------------------------------------------------------


def test_saml_provider_lifecycle(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    metadata = idp_metadata()
    created = iam.create_saml_provider(
        Name="corp-idp", SAMLMetadataDocument=metadata, Tags=[{"Key": "env", "Value": "prod"}]
    )
    arn = created["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:saml-provider/corp-idp"
    assert created["Tags"] == [{"Key": "env", "Value": "prod"}]
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == metadata
    assert got["ValidUntil"] == datetime(2030, 1, 1, tzinfo=UTC)
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    listed = {p["Arn"]: p for p in iam.list_saml_providers()["SAMLProviderList"]}
    assert listed[arn]["CreateDate"] == got["CreateDate"]
    newer = idp_metadata("2031-06-30T12:00:00Z")
    updated = iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=newer)
    assert updated["SAMLProviderArn"] == arn
    after = iam.get_saml_provider(SAMLProviderArn=arn)
    assert after["SAMLMetadataDocument"] == newer
    assert after["ValidUntil"] == datetime(2031, 6, 30, 12, tzinfo=UTC)
    iam.delete_saml_provider(SAMLProviderArn=arn)
    assert arn not in saml_arns(iam)
    with pytest.raises(ClientError) as caught:
        iam.get_saml_provider(SAMLProviderArn=arn)
    assert error_of(caught)[0] == "NoSuchEntity"


def test_duplicate_saml_provider_is_entity_already_exists(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_saml_provider(Name="twice", SAMLMetadataDocument=idp_metadata())
    with pytest.raises(ClientError) as caught:
        iam.create_saml_provider(Name="twice", SAMLMetadataDocument=idp_metadata())
    assert error_of(caught)[0] == "EntityAlreadyExists"


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    f'<md:EntityDescriptor xmlns:md="{MD}" entityID="&lol3;"><md:IDPSSODescriptor '
    'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
    "</md:EntityDescriptor>"
).ljust(1000)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("<md:EntityDescriptor><unclosed>".ljust(1000), "is not well-formed xml"),
        (
            f'<md:EntitiesDescriptor xmlns:md="{MD}"/>'.ljust(1000),
            "root element must be md:EntityDescriptor",
        ),
        (
            idp_metadata(inner=f'<md:SPSSODescriptor xmlns:md="{MD}"/>'),
            "must contain an md:IDPSSODescriptor",
        ),
        (idp_metadata("next tuesday"), "SAMLMetadataDocument.validUntil: `next tuesday`"),
        (BILLION_LAUGHS, "must not contain a DOCTYPE or ENTITY declaration"),
        (
            BILLION_LAUGHS.replace("<!DOCTYPE", "<!doctype"),
            "must not contain a DOCTYPE or ENTITY declaration",
        ),
    ],
    ids=[
        "not-well-formed",
        "wrong-root",
        "no-idp-descriptor",
        "bad-valid-until",
        "entity-expansion",
        "lower-case-doctype",
    ],
)
def test_bad_metadata_is_invalid_input_and_creates_nothing(
    bridge: LiveBridge, document: str, fragment: str
) -> None:
    iam: Any = bridge.client("iam")
    before = saml_arns(iam)
    with pytest.raises(ClientError) as caught:
        iam.create_saml_provider(Name="bad-idp", SAMLMetadataDocument=document)
    code, message = error_of(caught)
    assert code == "InvalidInput" and message.startswith("SAMLMetadataDocument")
    assert fragment in message
    assert saml_arns(iam) == before


def test_bad_update_keeps_the_old_metadata(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    metadata = idp_metadata()
    arn = iam.create_saml_provider(Name="kept", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    with pytest.raises(ClientError) as caught:
        iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=BILLION_LAUGHS)
    assert error_of(caught)[0] == "InvalidInput"
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == metadata


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "fragment"),
    [
        (
            "create_saml_provider",
            {"Name": "has space", "SAMLMetadataDocument": idp_metadata()},
            "ValidationError",
            "at 'name' failed to satisfy constraint",
        ),
        (
            "create_saml_provider",
            {"Name": "enc", "SAMLMetadataDocument": idp_metadata(), "AddPrivateKey": "k" * 64},
            "InvalidInput",
            "AddPrivateKey: ",
        ),
        (
            "get_saml_provider",
            {"SAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/absent"},
            "NoSuchEntity",
            "saml-provider/absent`",
        ),
        (
            "update_saml_provider",
            {"SAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/absent"},
            "NoSuchEntity",
            "saml-provider/absent`",
        ),
        (
            "delete_saml_provider",
            {"SAMLProviderArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/absent"},
            "NoSuchEntity",
            "saml-provider/absent`",
        ),
    ],
    ids=["name-pattern", "private-key-refused", "get-unknown", "update-unknown", "delete-unknown"],
)
def test_saml_errors(
    bridge: LiveBridge, call: str, kwargs: dict[str, str], code: str, fragment: str
) -> None:
    with pytest.raises(ClientError) as caught:
        getattr(bridge.client("iam"), call)(**kwargs)
    assert error_of(caught)[0] == code
    assert fragment in error_of(caught)[1]


def test_user_without_policies_is_denied(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    iam.create_user(UserName="nopol")
    key = iam.create_access_key(UserName="nopol")["AccessKey"]
    plain: Any = bridge.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as caught:
        plain.create_saml_provider(Name="sneaky", SAMLMetadataDocument=idp_metadata())
    code, message = error_of(caught)
    assert code == "AccessDenied"
    assert f"on resource: arn:aws:iam::{ACCOUNT}:saml-provider/sneaky" in message
    with pytest.raises(ClientError) as caught:
        plain.list_open_id_connect_providers()
    assert error_of(caught)[0] == "AccessDenied"
    assert f"arn:aws:iam::{ACCOUNT}:saml-provider/sneaky" not in saml_arns(iam)


# --- OpenID Connect providers --------------------------------------------------


def test_oidc_provider_lifecycle(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    created = iam.create_open_id_connect_provider(
        Url="https://issuer.example.com/tenant",
        ClientIDList=["app-one"],
        ThumbprintList=[THUMB.upper()],
        Tags=[{"Key": "owner", "Value": "platform"}],
    )
    arn = created["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/issuer.example.com/tenant"
    assert created["Tags"] == [{"Key": "owner", "Value": "platform"}]
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "issuer.example.com/tenant"
    assert (got["ClientIDList"], got["ThumbprintList"]) == (["app-one"], [THUMB])
    assert got["Tags"] == [{"Key": "owner", "Value": "platform"}] and "CreateDate" in got
    listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert {"Arn": arn} in listed
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="two")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="two")
    iam.remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="app-one"
    )
    iam.remove_client_id_from_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="never-added"
    )
    other = "a" * 40
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=arn, ThumbprintList=[other, THUMB]
    )
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ClientIDList"], got["ThumbprintList"]) == (["two"], [other, THUMB])
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as caught:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error_of(caught)[0] == "NoSuchEntity"


def test_oidc_provider_without_lists(bridge: LiveBridge) -> None:
    iam: Any = bridge.client("iam")
    arn = iam.create_open_id_connect_provider(Url="https://bare.example.com")[
        "OpenIDConnectProviderArn"
    ]
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == "bare.example.com"
    assert got.get("ClientIDList", []) == [] and got.get("ThumbprintList", []) == []
    with pytest.raises(ClientError) as caught:
        iam.create_open_id_connect_provider(Url="https://bare.example.com")
    assert error_of(caught)[0] == "EntityAlreadyExists"


OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/absent.example.com"


@pytest.mark.parametrize(
    ("call", "kwargs", "code", "fragment"),
    [
        (
            "create_open_id_connect_provider",
            {"Url": "http://issuer.example.com"},
            "InvalidInput",
            "Url: `http://issuer.example.com` must begin with `https://`",
        ),
        (
            "create_open_id_connect_provider",
            {"Url": "https://issuer.example.com/?tenant=1"},
            "InvalidInput",
            "Url: ",
        ),
        (
            "create_open_id_connect_provider",
            {"Url": "https://short.example.com", "ThumbprintList": [THUMB + "0"]},
            "ValidationError",
            "at 'thumbprintList' failed to satisfy constraint",
        ),
        (
            "create_open_id_connect_provider",
            {"Url": "https://hex.example.com", "ThumbprintList": [THUMB, "z" * 40]},
            "InvalidInput",
            "ThumbprintList[1]: ",
        ),
        (
            "create_open_id_connect_provider",
            {"Url": "https://six.example.com", "ThumbprintList": [THUMB] * 6},
            "InvalidInput",
            "ThumbprintList: at most 5 thumbprints",
        ),
        (
            "create_open_id_connect_provider",
            {"Url": "https://tags.example.com", "Tags": [{"Key": "a", "Value": "1"}] * 2},
            "InvalidInput",
            "Tags[1].key: duplicate tag key",
        ),
        ("get_open_id_connect_provider", {"OpenIDConnectProviderArn": OIDC}, "NoSuchEntity", OIDC),
        (
            "delete_open_id_connect_provider",
            {"OpenIDConnectProviderArn": OIDC},
            "NoSuchEntity",
            OIDC,
        ),
        (
            "add_client_id_to_open_id_connect_provider",
            {"OpenIDConnectProviderArn": OIDC, "ClientID": "x"},
            "NoSuchEntity",
            OIDC,
        ),
        (
            "update_open_id_connect_provider_thumbprint",
            {"OpenIDConnectProviderArn": OIDC, "ThumbprintList": [THUMB]},
            "NoSuchEntity",
            OIDC,
        ),
        (
            "add_client_id_to_open_id_connect_provider",
            {"OpenIDConnectProviderArn": OIDC, "ClientID": "c" * 256},
            "ValidationError",
            "at 'clientID' failed to satisfy constraint",
        ),
    ],
    ids=[
        "http-url",
        "url-with-query",
        "thumbprint-length",
        "thumbprint-not-hex",
        "six-thumbprints",
        "duplicate-tag",
        "get-unknown",
        "delete-unknown",
        "add-client-unknown",
        "thumbprint-unknown",
        "client-id-too-long",
    ],
)
def test_oidc_errors(
    bridge: LiveBridge, call: str, kwargs: dict[str, Any], code: str, fragment: str
) -> None:
    iam: Any = bridge.client("iam")
    before = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    with pytest.raises(ClientError) as caught:
        getattr(iam, call)(**kwargs)
    assert error_of(caught)[0] == code
    assert fragment in error_of(caught)[1]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == before
