"""SAML test fixtures: TEST keys, IdP metadata, and builders of signed/encrypted responses.

`python tests/data/saml/gen.py` (re)writes the TEST keys under `keys/` (only the missing
ones; `--new-keys` replaces them all) and the static fixtures under `fixtures/`
(metadata and a signed response pinned to `NOW`). Tests import the builders to make
responses on the fly: `build_assertion` → `build_response` → `sign` → `to_b64`.

The keys are throwaway TEST keys, committed on purpose; never use them anywhere else.
"""

from __future__ import annotations

import argparse
import base64
import copy
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

HERE = Path(__file__).resolve().parent
KEYS = HERE / "keys"
FIXTURES = HERE / "fixtures"
KEY_NAMES = ("idp", "idp-rollover", "attacker", "sp")

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
IDP_ENTITY_ID = "https://idp.example.test/saml/metadata"
SP_ENTITY_ID = "https://bridge.example.test/saml/metadata"
ACS_URL = "https://bridge.example.test/saml/acs"
PROVIDER_ARN = "arn:aws:iam::123456789012:saml-provider/TestIdP"

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
MFA_CLASS = "http://schemas.microsoft.com/claims/multipleauthn"
PASSWORD_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    name: str
    key_pem: bytes
    cert_pem: bytes

    @property
    def cert_der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(
            serialization.Encoding.DER
        )

    @property
    def cert_b64(self) -> str:
        return base64.b64encode(self.cert_der).decode("ascii")


def _new_keypair(name: str) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"TEST {name} - do not use")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2045, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPair(name, key_pem, cert.public_bytes(serialization.Encoding.PEM))


def write_keys(*, replace_all: bool = False) -> None:
    KEYS.mkdir(parents=True, exist_ok=True)
    for name in KEY_NAMES:
        key_file, cert_file = KEYS / f"test-{name}-key.pem", KEYS / f"test-{name}-cert.pem"
        if key_file.exists() and cert_file.exists() and not replace_all:
            continue
        pair = _new_keypair(name)
        key_file.write_bytes(pair.key_pem)
        cert_file.write_bytes(pair.cert_pem)


def keypair(name: str) -> KeyPair:
    """A committed TEST key pair: `idp`, `idp-rollover`, `attacker` or `sp`."""
    return KeyPair(
        name,
        (KEYS / f"test-{name}-key.pem").read_bytes(),
        (KEYS / f"test-{name}-cert.pem").read_bytes(),
    )


# --- metadata ---------------------------------------------------------------------------


def build_metadata(
    *certs: KeyPair,
    entity_id: str = IDP_ENTITY_ID,
    valid_until: datetime | None = None,
    uses: Sequence[str | None] = (),
) -> str:
    """IdP metadata with one KeyDescriptor per certificate (`uses[i]`, default signing)."""
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={"md": MD, "ds": DS})
    root.set("entityID", entity_id)
    if valid_until is not None:
        root.set("validUntil", _iso(valid_until))
    idp = etree.SubElement(root, f"{{{MD}}}IDPSSODescriptor")
    idp.set("protocolSupportEnumeration", SAMLP)
    for index, pair in enumerate(certs):
        use = uses[index] if index < len(uses) else "signing"
        descriptor = etree.SubElement(idp, f"{{{MD}}}KeyDescriptor")
        if use is not None:
            descriptor.set("use", use)
        info = etree.SubElement(descriptor, f"{{{DS}}}KeyInfo")
        data = etree.SubElement(info, f"{{{DS}}}X509Data")
        etree.SubElement(data, f"{{{DS}}}X509Certificate").text = pair.cert_b64
    sso = etree.SubElement(idp, f"{{{MD}}}SingleSignOnService")
    sso.set("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect")
    sso.set("Location", "https://idp.example.test/sso")
    return etree.tostring(root, encoding="unicode")


# --- assertions and responses -----------------------------------------------------------


@dataclass(frozen=True)
class AssertionSpec:
    """Everything a test may vary in an assertion; defaults make a valid one at `now`."""

    now: datetime = NOW
    assertion_id: str = "_assertion-0001"
    issuer: str = IDP_ENTITY_ID
    name_id: str = "alice@example.com"
    name_id_format: str | None = EMAIL
    method: str = BEARER
    recipient: str | None = ACS_URL
    audience: str | None = SP_ENTITY_ID
    in_response_to: str | None = None
    not_before: timedelta = timedelta(minutes=-1)  # relative to now
    not_on_or_after: timedelta = timedelta(minutes=5)
    confirmation_not_on_or_after: timedelta | None = timedelta(minutes=5)
    session_not_on_or_after: timedelta | None = timedelta(hours=8)
    class_ref: str = PASSWORD_CLASS
    attributes: tuple[tuple[str, str | None, tuple[str, ...]], ...] = field(
        default=(
            ("https://aws.amazon.com/SAML/Attributes/RoleSessionName", None, ("alice",)),
            ("urn:oid:0.9.2342.19200300.100.1.3", "mail", ("alice@example.com",)),
            ("groups", None, ("staff", "admins")),
        )
    )

    def but(self, **changes: object) -> AssertionSpec:
        return replace(self, **changes)  # type: ignore[arg-type]


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{name}")
    if text is not None:
        element.text = text
    return element


def build_assertion(spec: AssertionSpec = AssertionSpec()) -> etree._Element:
    now = spec.now
    root = etree.Element(f"{{{SAML}}}Assertion", nsmap={"saml": SAML, "xs": XS, "xsi": XSI})
    root.set("ID", spec.assertion_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", _iso(now))
    _sub(root, SAML, "Issuer", spec.issuer)
    _subject(root, spec)
    conditions = _sub(root, SAML, "Conditions")
    conditions.set("NotBefore", _iso(now + spec.not_before))
    conditions.set("NotOnOrAfter", _iso(now + spec.not_on_or_after))
    if spec.audience is not None:
        restriction = _sub(conditions, SAML, "AudienceRestriction")
        _sub(restriction, SAML, "Audience", spec.audience)
    _authn(root, spec)
    _attribute_statement(root, spec)
    return root


def _subject(root: etree._Element, spec: AssertionSpec) -> None:
    subject = _sub(root, SAML, "Subject")
    name_id = _sub(subject, SAML, "NameID", spec.name_id)
    if spec.name_id_format is not None:
        name_id.set("Format", spec.name_id_format)
    confirmation = _sub(subject, SAML, "SubjectConfirmation")
    confirmation.set("Method", spec.method)
    data = _sub(confirmation, SAML, "SubjectConfirmationData")
    if spec.confirmation_not_on_or_after is not None:
        data.set("NotOnOrAfter", _iso(spec.now + spec.confirmation_not_on_or_after))
    if spec.recipient is not None:
        data.set("Recipient", spec.recipient)
    if spec.in_response_to is not None:
        data.set("InResponseTo", spec.in_response_to)


def _authn(root: etree._Element, spec: AssertionSpec) -> None:
    statement = _sub(root, SAML, "AuthnStatement")
    statement.set("AuthnInstant", _iso(spec.now - timedelta(seconds=30)))
    statement.set("SessionIndex", "_session-1")
    if spec.session_not_on_or_after is not None:
        statement.set("SessionNotOnOrAfter", _iso(spec.now + spec.session_not_on_or_after))
    context = _sub(statement, SAML, "AuthnContext")
    _sub(context, SAML, "AuthnContextClassRef", spec.class_ref)


def _attribute_statement(root: etree._Element, spec: AssertionSpec) -> None:
    if not spec.attributes:
        return
    statement = _sub(root, SAML, "AttributeStatement")
    for name, friendly, values in spec.attributes:
        attribute = _sub(statement, SAML, "Attribute")
        attribute.set("Name", name)
        attribute.set("NameFormat", "urn:oasis:names:tc:SAML:2.0:attrname-format:uri")
        if friendly is not None:
            attribute.set("FriendlyName", friendly)
        for value in values:
            element = _sub(attribute, SAML, "AttributeValue", value)
            element.set(f"{{{XSI}}}type", "xs:string")


def build_response(
    assertion: etree._Element | None,
    *,
    now: datetime = NOW,
    response_id: str = "_response-0001",
    destination: str | None = ACS_URL,
    issuer: str | None = IDP_ENTITY_ID,
    status: str = SUCCESS,
    in_response_to: str | None = None,
) -> etree._Element:
    """A Response around `assertion` (an Assertion or EncryptedAssertion element, moved in)."""
    root = etree.Element(f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML})
    root.set("ID", response_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", _iso(now))
    if destination is not None:
        root.set("Destination", destination)
    if in_response_to is not None:
        root.set("InResponseTo", in_response_to)
    if issuer is not None:
        _sub(root, SAML, "Issuer", issuer)
    status_element = _sub(root, SAMLP, "Status")
    _sub(status_element, SAMLP, "StatusCode").set("Value", status)
    if assertion is not None:
        root.append(assertion)
    return root


# --- signing and encryption -------------------------------------------------------------

SIGNATURES = {
    "rsa-sha256": (xmlsec.constants.TransformRsaSha256, xmlsec.constants.TransformSha256),
    "rsa-sha512": (xmlsec.constants.TransformRsaSha512, xmlsec.constants.TransformSha512),
    "rsa-sha1": (xmlsec.constants.TransformRsaSha1, xmlsec.constants.TransformSha1),
    "rsa-sha256+sha1-digest": (
        xmlsec.constants.TransformRsaSha256,
        xmlsec.constants.TransformSha1,
    ),
}


def sign(
    element: etree._Element,
    pair: KeyPair,
    *,
    algorithm: str = "rsa-sha256",
    embed_cert: KeyPair | None = None,
    reference_id: str | None = None,
) -> etree._Element:
    """Sign `element` in place with an enveloped signature placed after its Issuer.

    `embed_cert` puts that certificate in KeyInfo (default: the signer's own);
    `reference_id` makes the Reference point elsewhere (for wrapping attacks).
    """
    method, digest = SIGNATURES[algorithm]
    signature = xmlsec.template.create(element, xmlsec.constants.TransformExclC14N, method, ns="ds")
    issuer = element.find(f"{{{SAML}}}Issuer")
    element.insert(0 if issuer is None else element.index(issuer) + 1, signature)
    uri = "#" + (reference_id or element.get("ID", ""))
    reference = xmlsec.template.add_reference(signature, digest, uri=uri)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    x509_data = xmlsec.template.add_x509_data(key_info)
    etree.SubElement(x509_data, f"{{{DS}}}X509Certificate").text = (embed_cert or pair).cert_b64
    xmlsec.tree.add_ids(element.getroottree().getroot(), ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(pair.key_pem, xmlsec.constants.KeyDataFormatPem)
    ctx.sign(signature)
    return element


def encrypt(assertion: etree._Element, sp: KeyPair) -> etree._Element:
    """An EncryptedAssertion (AES-128-CBC, RSA-OAEP key transport) for the SP certificate."""
    holder = etree.Element(f"{{{SAML}}}EncryptedAssertion", nsmap={"saml": SAML})
    template = xmlsec.template.encrypted_data_create(
        holder,
        xmlsec.constants.TransformAes128Cbc,
        type=xmlsec.constants.TypeEncElement,
        ns="xenc",
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    holder.append(etree.fromstring(etree.tostring(assertion)))
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(sp.cert_pem, xmlsec.constants.KeyDataFormatCertPem))
    ctx = xmlsec.EncryptionContext(manager)
    ctx.key = xmlsec.Key.generate(
        xmlsec.constants.KeyDataAes, 128, xmlsec.constants.KeyDataTypeSession
    )
    ctx.encrypt_xml(template, holder[0])  # replaces the assertion with the EncryptedData
    return holder


def to_b64(element: etree._Element | bytes | str) -> str:
    if isinstance(element, str):
        element = element.encode("utf-8")
    data = element if isinstance(element, bytes) else etree.tostring(element)
    return base64.b64encode(data).decode("ascii")


def signed_response(
    spec: AssertionSpec = AssertionSpec(),
    *,
    sign_assertion: bool = True,
    sign_response: bool = False,
    signer: str = "idp",
    **response: object,
) -> etree._Element:
    """The common case: an assertion from `spec`, signed as asked, in a Response."""
    pair = keypair(signer)
    assertion = build_assertion(spec)
    if sign_assertion:
        sign(assertion, pair)
    root = build_response(assertion, now=spec.now, **response)  # type: ignore[arg-type]
    if sign_response:
        sign(root, pair)
    return root


def clone(element: etree._Element) -> etree._Element:
    return copy.deepcopy(element)


# --- static fixtures --------------------------------------------------------------------


def write_fixtures() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / "idp-metadata.xml").write_text(build_metadata(keypair("idp")), encoding="utf-8")
    both = signed_response(sign_assertion=True, sign_response=True)
    (FIXTURES / "response-signed-both.xml").write_bytes(etree.tostring(both))
    encrypted = build_response(encrypt(sign(build_assertion(), keypair("idp")), keypair("sp")))
    (FIXTURES / "response-encrypted.xml").write_bytes(etree.tostring(encrypted))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--new-keys", action="store_true", help="replace every TEST key")
    args = parser.parse_args(argv)
    write_keys(replace_all=args.new_keys)
    write_fixtures()
    print(f"wrote TEST keys in {KEYS} and fixtures in {FIXTURES}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
