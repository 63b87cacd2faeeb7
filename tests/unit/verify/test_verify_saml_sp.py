"""The SAML SP side: AuthnRequests in both bindings (signatures verified with the SP
certificate), IdP endpoints from metadata, the SP metadata, and SLO messages."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from bridge.clock import FixedClock
from bridge.verify import saml_slo, saml_sp, saml_xmlsec
from bridge.verify.metadata import MD
from bridge.verify.saml_errors import InvalidSAMLMetadata, InvalidSAMLResponse
from tests.data.saml.gen import build_metadata, keypair

SP_KEYS = keypair("sp")
IDP_KEYS = keypair("idp")
SP = saml_sp.SPInfo(
    entity_id="https://bridge.example.test/saml/metadata",
    acs_url="https://bridge.example.test/saml/acs",
    slo_url="https://bridge.example.test/saml/slo",
    key_pem=SP_KEYS.key_pem,
    cert_pem=SP_KEYS.cert_pem,
)
SSO = "https://idp.example.test/sso"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


def _idp_metadata(*, want_signed: bool = False, slo: bool = True) -> str:
    root = etree.fromstring(build_metadata(IDP_KEYS).encode())
    idp = root.find(f"{{{MD}}}IDPSSODescriptor")
    assert idp is not None
    if want_signed:
        idp.set("WantAuthnRequestsSigned", "true")
    etree.SubElement(
        idp, f"{{{MD}}}SingleSignOnService", Binding=saml_sp.POST, Location=SSO + "/post"
    )
    if slo:
        etree.SubElement(
            idp,
            f"{{{MD}}}SingleLogoutService",
            Binding=saml_sp.REDIRECT,
            Location="https://idp.example.test/slo",
        )
    return etree.tostring(root, encoding="unicode")


def _request() -> etree._Element:
    clock = FixedClock(NOW)
    return saml_sp.authn_request(
        SP,
        SSO,
        "_req1",
        saml_sp.instant(clock),
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    )


def _inflate(value: str) -> etree._Element:
    return etree.fromstring(zlib.decompress(base64.b64decode(value), -15))


def test_authn_request_fields() -> None:
    request = _request()
    assert request.tag == f"{{{SAMLP}}}AuthnRequest"
    assert {k: request.get(k) for k in ("ID", "Version", "IssueInstant", "Destination")} == {
        "ID": "_req1",
        "Version": "2.0",
        "IssueInstant": "2026-01-01T12:00:00Z",
        "Destination": SSO,
    }
    assert request.get("AssertionConsumerServiceURL") == SP.acs_url
    assert request.get("ProtocolBinding") == saml_sp.POST
    assert request.findtext("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer") == SP.entity_id


def test_new_ids_are_xml_ids_from_the_rng() -> None:
    class Counting:
        def token_bytes(self, n: int) -> bytes:
            return bytes(range(n))

        def choice(self, alphabet: str) -> str:
            return alphabet[0]

    assert saml_sp.new_id(Counting()) == "_" + bytes(range(20)).hex()


def _verify_query_signature(url: str, cert_pem: bytes) -> None:
    query = urlsplit(url).query
    raw = dict(part.split("=", 1) for part in query.split("&"))
    signed = "&".join(f"{k}={raw[k]}" for k in ("SAMLRequest", "RelayState", "SigAlg") if k in raw)
    signature = base64.b64decode(parse_qs(query)["Signature"][0])
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_redirect_binding_signed_with_the_sp_key() -> None:
    out = saml_sp.redirect(SSO, "SAMLRequest", _request(), "relay-1", SP.key_pem)
    assert out.fields is None and out.url.startswith(SSO + "?SAMLRequest=")
    params = {k: v[0] for k, v in parse_qs(urlsplit(out.url).query).items()}
    assert params["SigAlg"] == saml_sp.RSA_SHA256 and params["RelayState"] == "relay-1"
    assert _inflate(params["SAMLRequest"]).get("ID") == "_req1"
    _verify_query_signature(out.url, SP.cert_pem)
    with pytest.raises(InvalidSignature):
        _verify_query_signature(out.url.replace("relay-1", "relay-2"), SP.cert_pem)


def test_redirect_binding_unsigned_has_no_signature() -> None:
    out = saml_sp.redirect(SSO + "?x=1", "SAMLRequest", _request(), None, None)
    params = parse_qs(urlsplit(out.url).query)
    assert "Signature" not in params and "SigAlg" not in params and params["x"] == ["1"]


def test_post_binding_enveloped_signature_verifies_with_the_sp_cert() -> None:
    out = saml_sp.post_form(SSO, "SAMLRequest", _request(), "r", SP.key_pem)
    assert out.fields is not None and out.fields["RelayState"] == "r"
    root = etree.fromstring(base64.b64decode(out.fields["SAMLRequest"]))
    keys = saml_xmlsec.load_keys([SP_KEYS.cert_der])
    verified = saml_xmlsec.verify_enveloped(root, keys, allow_sha1=False, where="AuthnRequest")
    assert verified.element.get("ID") == "_req1"
    other = saml_xmlsec.load_keys([IDP_KEYS.cert_der])
    with pytest.raises(InvalidSAMLResponse):
        saml_xmlsec.verify_enveloped(root, other, allow_sha1=False, where="AuthnRequest")


@pytest.mark.parametrize(
    ("setting", "want", "expected"),
    [
        pytest.param("auto", True, True, id="auto-idp-wants"),
        pytest.param("auto", False, False, id="auto-idp-does-not-want"),
        pytest.param("always", False, True, id="always"),
        pytest.param("never", True, False, id="never"),
    ],
)
def test_should_sign(setting: str, want: bool, expected: bool) -> None:
    endpoints = saml_sp.read_idp_endpoints(_idp_metadata(want_signed=want))
    assert saml_sp.should_sign(setting, endpoints) is expected


def test_idp_endpoints_from_metadata() -> None:
    endpoints = saml_sp.read_idp_endpoints(_idp_metadata())
    assert endpoints.entity_id == "https://idp.example.test/saml/metadata"
    assert endpoints.sso_url("redirect") == SSO
    assert endpoints.sso_url("post") == SSO + "/post"
    assert endpoints.slo_endpoint() == (saml_sp.REDIRECT, "https://idp.example.test/slo")
    assert saml_sp.read_idp_endpoints(_idp_metadata(slo=False)).slo_endpoint() is None


def test_metadata_without_an_idp_is_refused() -> None:
    with pytest.raises(InvalidSAMLMetadata):
        saml_sp.read_idp_endpoints(f'<md:EntityDescriptor xmlns:md="{MD}" entityID="x"/>')


def test_sp_metadata_document() -> None:
    root = etree.fromstring(saml_sp.sp_metadata(SP))
    assert root.get("entityID") == SP.entity_id
    descriptor = root.find(f"{{{MD}}}SPSSODescriptor")
    assert descriptor is not None
    assert descriptor.get("AuthnRequestsSigned") == "true"
    assert descriptor.get("WantAssertionsSigned") == "true"
    uses = {
        key.get("use"): key.findtext(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
        for key in descriptor.findall(f"{{{MD}}}KeyDescriptor")
    }
    assert uses == {"signing": SP_KEYS.cert_b64, "encryption": SP_KEYS.cert_b64}
    [acs] = descriptor.findall(f"{{{MD}}}AssertionConsumerService")
    assert (acs.get("Binding"), acs.get("Location")) == (saml_sp.POST, SP.acs_url)
    slo = {
        e.get("Binding"): e.get("Location")
        for e in descriptor.findall(f"{{{MD}}}SingleLogoutService")
    }
    assert slo == {saml_sp.REDIRECT: SP.slo_url, saml_sp.POST: SP.slo_url}


# --- SLO ------------------------------------------------------------------------------

IDP_AS_SENDER = saml_sp.SPInfo(
    entity_id="https://idp.example.test/saml/metadata",
    acs_url="",
    slo_url="",
    key_pem=IDP_KEYS.key_pem,
    cert_pem=IDP_KEYS.cert_pem,
)


def _idp_logout_request() -> etree._Element:
    return saml_slo.logout_request(
        IDP_AS_SENDER, SP.slo_url, "_lr1", "2026-01-01T12:00:00Z", "alice@example.com", None, "_s1"
    )


def test_logout_request_from_the_idp_by_redirect_is_verified_and_read() -> None:
    out = saml_sp.redirect(SP.slo_url, "SAMLRequest", _idp_logout_request(), "rs", IDP_KEYS.key_pem)
    raw = urlsplit(out.url).query
    name, xml = saml_slo.decode_redirect(raw)
    assert name == "SAMLRequest"
    saml_slo.verify_redirect(raw, _idp_metadata(), NOW)
    message = saml_slo.read_logout_message(xml, "rs")
    assert (message.kind, message.name_id, message.session_indexes) == (
        "LogoutRequest",
        "alice@example.com",
        ("_s1",),
    )
    assert message.issuer == IDP_AS_SENDER.entity_id


@pytest.mark.parametrize(
    ("key", "mutate"),
    [
        pytest.param(
            IDP_KEYS.key_pem, lambda q: q.replace("RelayState=rs", "RelayState=rz"), id="tampered"
        ),
        pytest.param(keypair("attacker").key_pem, lambda q: q, id="foreign-key"),
        pytest.param(None, lambda q: q, id="unsigned"),
        pytest.param(
            IDP_KEYS.key_pem, lambda q: q + "&SAMLRequest=forged", id="repeated-parameter"
        ),
    ],
)
def test_bad_redirect_logout_messages_are_refused(key: bytes | None, mutate: object) -> None:
    out = saml_sp.redirect(SP.slo_url, "SAMLRequest", _idp_logout_request(), "rs", key)
    raw = mutate(urlsplit(out.url).query)  # type: ignore[operator]
    with pytest.raises(InvalidSAMLResponse):
        saml_slo.verify_redirect(raw, _idp_metadata(), NOW)


def test_logout_by_post_is_verified_and_tampering_refused() -> None:
    out = saml_sp.post_form(
        SP.slo_url, "SAMLRequest", _idp_logout_request(), None, IDP_KEYS.key_pem
    )
    assert out.fields is not None
    xml = saml_slo.decode_post(out.fields["SAMLRequest"])
    signed = saml_slo.verify_post(xml, _idp_metadata(), NOW)
    assert saml_slo.read_logout_message(signed, None).message_id == "_lr1"
    forged = xml.replace(b"alice@example.com", b"bob@example.com")
    with pytest.raises(InvalidSAMLResponse):
        saml_slo.verify_post(forged, _idp_metadata(), NOW)


def test_logout_response_to_the_idp() -> None:
    response = saml_slo.logout_response(
        SP, "https://idp.example.test/slo", "_r2", "2026-01-01T12:00:00Z", "_lr1"
    )
    message = saml_slo.read_logout_message(etree.tostring(response), None)
    assert (message.kind, message.in_response_to, message.status) == (
        "LogoutResponse",
        "_lr1",
        saml_slo.SUCCESS,
    )
    assert quote(message.issuer, safe="") and message.issuer == SP.entity_id
