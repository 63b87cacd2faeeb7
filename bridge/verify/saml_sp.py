"""This bridge as a SAML 2.0 service provider: AuthnRequests, bindings, SP metadata.

- AuthnRequest (SAML core 3.4.1): ID from the injected rng, IssueInstant from the clock,
  Destination = the IdP's SSO URL, AssertionConsumerServiceURL and ProtocolBinding
  HTTP-POST, Issuer = the SP entity id, an optional NameIDPolicy.
- HTTP-Redirect binding (bindings 3.4.4.1): DEFLATE, base64, URL-encode; when signed,
  the signature covers `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as sent
  (RSA-SHA256 with the SP key).
- HTTP-POST binding (bindings 3.5): the base64 message in a form; when signed, an
  enveloped XML signature (exclusive c14n, RSA-SHA256) placed after the Issuer.
- The IdP's SSO and SLO endpoints and `WantAuthnRequestsSigned` come from the metadata
  stored on the IAM SAML provider record (metadata 2.4.3).
- SP metadata (metadata 2.4.4): SPSSODescriptor with AuthnRequestsSigned,
  WantAssertionsSigned, the SP certificate for signing and for encryption, the ACS
  (HTTP-POST) and the SLO endpoints.

No pysaml2 here (CONVENTIONS 1): the few SAML names are constants.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from bridge.clock import Clock, Random
from bridge.verify.metadata import MD, SAML2_PROTOCOL
from bridge.verify.saml_errors import InvalidSAMLMetadata, UnsafeXML
from bridge.verify.xmlsafe import Element, children, parse_xml

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = SAML2_PROTOCOL
DS = "http://www.w3.org/2000/09/xmldsig#"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ENTITY_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
BINDINGS = {"redirect": REDIRECT, "post": POST}
MAX_METADATA_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SPInfo:
    """What the bridge says about itself as an SP."""

    entity_id: str
    acs_url: str
    slo_url: str
    key_pem: bytes
    cert_pem: bytes


@dataclass(frozen=True)
class IdPEndpoints:
    """The parts of the IdP metadata the SP side needs (metadata 2.4.3)."""

    entity_id: str
    sso: dict[str, str]  # binding URI → Location
    slo: dict[str, str]
    want_authn_requests_signed: bool

    def sso_url(self, binding: str) -> str | None:
        return self.sso.get(BINDINGS[binding])

    def slo_endpoint(self) -> tuple[str, str] | None:
        """(binding, location) of an SLO endpoint, HTTP-Redirect preferred."""
        for uri in (REDIRECT, POST):
            if uri in self.slo:
                return uri, self.slo[uri]
        return None


@dataclass(frozen=True)
class Outgoing:
    """A SAML message ready to send: a URL to redirect to, or a form to post."""

    url: str
    fields: dict[str, str] | None = None  # None: redirect to `url`


def read_idp_endpoints(document: str) -> IdPEndpoints:
    """The SSO/SLO endpoints and WantAuthnRequestsSigned of the IdP in `document`."""
    try:
        root = parse_xml(document.encode("utf-8"), max_bytes=MAX_METADATA_BYTES, what="metadata")
    except UnsafeXML as exc:
        raise InvalidSAMLMetadata(exc.message) from exc
    entities = (
        [root]
        if root.tag == f"{{{MD}}}EntityDescriptor"
        else list(root.iter(f"{{{MD}}}EntityDescriptor"))
    )
    for entity in entities:
        for idp in children(entity, f"{{{MD}}}IDPSSODescriptor"):
            if SAML2_PROTOCOL in idp.get("protocolSupportEnumeration", ""):
                return IdPEndpoints(
                    entity_id=entity.get("entityID", ""),
                    sso=_endpoints(idp, "SingleSignOnService"),
                    slo=_endpoints(idp, "SingleLogoutService"),
                    want_authn_requests_signed=idp.get("WantAuthnRequestsSigned") in ("true", "1"),
                )
    raise InvalidSAMLMetadata("metadata: no IDPSSODescriptor supporting SAML 2.0")


def _endpoints(idp: Element, tag: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for endpoint in children(idp, f"{{{MD}}}{tag}"):
        binding, location = endpoint.get("Binding"), endpoint.get("Location")
        if binding and location and binding not in found:
            found[binding] = location
    return found


def new_id(rng: Random) -> str:
    """An xs:ID (starts with a letter or `_`) with 160 random bits (core 1.3.4)."""
    return "_" + rng.token_bytes(20).hex()


def instant(clock: Clock) -> str:
    return clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def authn_request(
    sp: SPInfo, destination: str, request_id: str, issued: str, name_id_format: str | None
) -> Element:
    """An AuthnRequest asking for a response by HTTP-POST to our ACS (core 3.4.1)."""
    root = etree.Element(f"{{{SAMLP}}}AuthnRequest", nsmap={"samlp": SAMLP, "saml": SAML})
    for name, value in (
        ("ID", request_id),
        ("Version", "2.0"),
        ("IssueInstant", issued),
        ("Destination", destination),
        ("AssertionConsumerServiceURL", sp.acs_url),
        ("ProtocolBinding", POST),
    ):
        root.set(name, value)
    etree.SubElement(root, f"{{{SAML}}}Issuer").text = sp.entity_id
    if name_id_format:
        policy = etree.SubElement(root, f"{{{SAMLP}}}NameIDPolicy")
        policy.set("Format", name_id_format)
        policy.set("AllowCreate", "true")
    return root


def deflate_b64(xml: bytes) -> str:
    """DEFLATE (RFC 1951, raw) then base64, for the HTTP-Redirect binding."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(deflater.compress(xml) + deflater.flush()).decode("ascii")


def inflate_b64(value: str, *, max_bytes: int = 256 * 1024) -> bytes:
    """The inverse of `deflate_b64`, with a cap on the inflated size."""
    raw = base64.b64decode(value, validate=False)
    inflater = zlib.decompressobj(-15)
    data = inflater.decompress(raw, max_bytes + 1)
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise UnsafeXML(f"the deflated message inflates to more than {max_bytes} bytes")
    return data


def redirect(
    location: str,
    parameter: str,
    message: Element,
    relay_state: str | None,
    key_pem: bytes | None,
) -> Outgoing:
    """The HTTP-Redirect URL for `message`, signed with `key_pem` when given (3.4.4.1)."""
    pairs = [(parameter, deflate_b64(etree.tostring(message)))]
    if relay_state is not None:
        pairs.append(("RelayState", relay_state))
    if key_pem is not None:
        pairs.append(("SigAlg", RSA_SHA256))
        signed = "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)
        pairs.append(("Signature", _rsa_sign(key_pem, signed.encode("ascii"))))
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs)
    joiner = "&" if urlsplit(location).query else "?"
    return Outgoing(f"{location}{joiner}{query}")


def post_form(
    location: str,
    parameter: str,
    message: Element,
    relay_state: str | None,
    key_pem: bytes | None,
) -> Outgoing:
    """The HTTP-POST form for `message`, with an enveloped signature when `key_pem`."""
    if key_pem is not None:
        sign_enveloped(message, key_pem)
    fields = {parameter: base64.b64encode(etree.tostring(message)).decode("ascii")}
    if relay_state is not None:
        fields["RelayState"] = relay_state
    return Outgoing(location, fields)


def _rsa_sign(key_pem: bytes, data: bytes) -> str:
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the SP key must be an RSA key")
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def sign_enveloped(element: Element, key_pem: bytes) -> Element:
    """Sign `element` in place: enveloped, exclusive c14n, RSA-SHA256, after the Issuer."""
    signature = xmlsec.template.create(
        element, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256, ns="ds"
    )
    issuer = element.find(f"{{{SAML}}}Issuer")
    element.insert(0 if issuer is None else element.index(issuer) + 1, signature)
    reference = xmlsec.template.add_reference(
        signature, xmlsec.constants.TransformSha256, uri="#" + element.get("ID", "")
    )
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    xmlsec.tree.add_ids(element, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    ctx.sign(signature)
    return element


def should_sign(setting: str, idp: IdPEndpoints) -> bool:
    """`always`, `never`, or `auto`: as the IdP metadata asks (WantAuthnRequestsSigned)."""
    if setting == "always":
        return True
    if setting == "never":
        return False
    return idp.want_authn_requests_signed


def sp_metadata(sp: SPInfo, *, valid_until: datetime | None = None) -> bytes:
    """The SP's EntityDescriptor (metadata 2.4.4), unsigned."""
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD, "ds": DS})
    root.set("entityID", sp.entity_id)
    if valid_until is not None:
        root.set("validUntil", valid_until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    descriptor = etree.SubElement(root, f"{{{MD}}}SPSSODescriptor")
    descriptor.set("AuthnRequestsSigned", "true")
    descriptor.set("WantAssertionsSigned", "true")
    descriptor.set("protocolSupportEnumeration", SAMLP)
    certificate = _cert_b64(sp.cert_pem)
    for use in ("signing", "encryption"):
        key = etree.SubElement(descriptor, f"{{{MD}}}KeyDescriptor", use=use)
        data = etree.SubElement(etree.SubElement(key, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data")
        etree.SubElement(data, f"{{{DS}}}X509Certificate").text = certificate
    for binding in (REDIRECT, POST):
        etree.SubElement(
            descriptor, f"{{{MD}}}SingleLogoutService", Binding=binding, Location=sp.slo_url
        )
    etree.SubElement(
        descriptor,
        f"{{{MD}}}AssertionConsumerService",
        Binding=POST,
        Location=sp.acs_url,
        index="0",
        isDefault="true",
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _cert_b64(cert_pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode("ascii")
