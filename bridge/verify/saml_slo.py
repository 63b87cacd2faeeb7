"""SAML single logout (SAML core 3.7, profiles 4.4) for the browser sign-in.

- SP-initiated: `logout_request()` names the NameID and the SessionIndex of the
  session the IdP created; it goes out signed (HTTP-Redirect or HTTP-POST).
- IdP-initiated: `read_logout_message()` reads a LogoutRequest or LogoutResponse
  from either binding and checks its signature against the provider metadata
  before anything else is read: HTTP-Redirect by the detached query signature
  (bindings 3.4.4.1, over the parameters exactly as received), HTTP-POST by the
  enveloped XML signature (`saml_xmlsec`). An unsigned message is refused.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from bridge.verify import saml_xmlsec
from bridge.verify.metadata import parse_idp_metadata
from bridge.verify.saml_errors import InvalidSAMLResponse, UnsafeXML
from bridge.verify.saml_sp import SAML, SAMLP, SPInfo, inflate_b64
from bridge.verify.xmlsafe import Element, children, index_ids, parse_xml

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
REDIRECT_SIG_HASHES: dict[str, hashes.HashAlgorithm] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512(),
}
MAX_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True)
class LogoutMessage:
    kind: str  # "LogoutRequest" | "LogoutResponse"
    message_id: str
    issuer: str
    in_response_to: str | None = None
    status: str | None = None
    name_id: str | None = None
    session_indexes: tuple[str, ...] = ()
    relay_state: str | None = None


def logout_request(
    sp: SPInfo,
    destination: str,
    request_id: str,
    issued: str,
    name_id: str,
    name_id_format: str | None,
    session_index: str | None,
) -> Element:
    root = _message("LogoutRequest", request_id, issued, destination, sp.entity_id)
    name = etree.SubElement(root, f"{{{SAML}}}NameID")
    name.text = name_id
    if name_id_format:
        name.set("Format", name_id_format)
    if session_index:
        etree.SubElement(root, f"{{{SAMLP}}}SessionIndex").text = session_index
    return root


def logout_response(
    sp: SPInfo, destination: str, response_id: str, issued: str, in_response_to: str
) -> Element:
    root = _message("LogoutResponse", response_id, issued, destination, sp.entity_id)
    root.set("InResponseTo", in_response_to)
    status = etree.SubElement(root, f"{{{SAMLP}}}Status")
    etree.SubElement(status, f"{{{SAMLP}}}StatusCode").set("Value", SUCCESS)
    return root


def _message(tag: str, message_id: str, issued: str, destination: str, issuer: str) -> Element:
    root = etree.Element(f"{{{SAMLP}}}{tag}", nsmap={"samlp": SAMLP, "saml": SAML})
    root.set("ID", message_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", issued)
    root.set("Destination", destination)
    etree.SubElement(root, f"{{{SAML}}}Issuer").text = issuer
    return root


def unverified_issuer(xml: bytes) -> str:
    """The Issuer of a logout message, read only to choose the provider's metadata."""
    root = _parse(xml)
    issuers = children(root, f"{{{SAML}}}Issuer")
    if len(issuers) != 1 or not (issuers[0].text or "").strip():
        raise InvalidSAMLResponse(f"{_local(root)}/Issuer: expected exactly one, non-empty")
    return (issuers[0].text or "").strip()


SAML_QUERY_PARAMETERS = ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")


def refuse_repeated_parameters(raw_query: str) -> None:
    """A SAML parameter given twice is refused: the signature must cover the very value
    that is read (one parser checking the first copy, another reading the last, would let
    a forged message ride on a signed one)."""
    names = [part.partition("=")[0] for part in raw_query.split("&")]
    for name in SAML_QUERY_PARAMETERS:
        if names.count(name) > 1:
            raise InvalidSAMLResponse(f"`{name}` appears more than once in the query")


def decode_redirect(raw_query: str) -> tuple[str, bytes]:
    """(`SAMLRequest` or `SAMLResponse`, the inflated XML) of an HTTP-Redirect query."""
    refuse_repeated_parameters(raw_query)
    params = dict(parse_qsl(raw_query))
    for name in ("SAMLRequest", "SAMLResponse"):
        if name in params:
            try:
                return name, inflate_b64(params[name], max_bytes=MAX_MESSAGE_BYTES)
            except (binascii.Error, ValueError, UnsafeXML) as exc:
                raise InvalidSAMLResponse(f"{name}: not a deflated base64 message") from exc
    raise InvalidSAMLResponse("no `SAMLRequest` or `SAMLResponse` parameter")


def decode_post(value: str) -> bytes:
    try:
        data = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSAMLResponse("the posted message is not base64") from exc
    if len(data) > MAX_MESSAGE_BYTES:
        raise InvalidSAMLResponse(f"the posted message exceeds {MAX_MESSAGE_BYTES} bytes")
    return data


def verify_redirect(raw_query: str, metadata_document: str, now: datetime) -> None:
    """Check the detached signature of an HTTP-Redirect message (bindings 3.4.4.1)."""
    refuse_repeated_parameters(raw_query)
    raw: dict[str, str] = {}
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        raw.setdefault(name, value)
    message = "SAMLRequest" if "SAMLRequest" in raw else "SAMLResponse"
    sig_alg = unquote_plus(raw.get("SigAlg", ""))
    if "Signature" not in raw or sig_alg not in REDIRECT_SIG_HASHES:
        raise InvalidSAMLResponse(
            f"{message}: not signed with an accepted `SigAlg` (RSA-SHA256 or stronger)"
        )
    order = [message, "RelayState", "SigAlg"]
    signed = "&".join(f"{name}={raw[name]}" for name in order if name in raw)
    signature = base64.b64decode(unquote_plus(raw["Signature"]))
    metadata = parse_idp_metadata(metadata_document, now=now)
    for der in metadata.signing_certificates:
        key = x509.load_der_x509_certificate(der).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(
                signature, signed.encode("ascii"), padding.PKCS1v15(), REDIRECT_SIG_HASHES[sig_alg]
            )
        except InvalidSignature:
            continue
        return
    raise InvalidSAMLResponse(
        f"{message}: the signature does not verify with the provider's signing certificates"
    )


def verify_post(xml: bytes, metadata_document: str, now: datetime) -> bytes:
    """Check the enveloped signature of an HTTP-POST message; the signed XML."""
    root = _parse(xml)
    index_ids(root, what=_local(root))
    metadata = parse_idp_metadata(metadata_document, now=now)
    keys = saml_xmlsec.load_keys(metadata.signing_certificates)
    verified = saml_xmlsec.verify_enveloped(root, keys, allow_sha1=False, where=_local(root))
    return bytes(etree.tostring(verified.element))


def read_logout_message(xml: bytes, relay_state: str | None) -> LogoutMessage:
    """The fields of a (verified) LogoutRequest or LogoutResponse."""
    root = _parse(xml)
    kind = _local(root)
    if root.tag not in (f"{{{SAMLP}}}LogoutRequest", f"{{{SAMLP}}}LogoutResponse"):
        raise InvalidSAMLResponse(f"`{kind}` is not a LogoutRequest or LogoutResponse")
    status = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    name_id = root.find(f"{{{SAML}}}NameID")
    return LogoutMessage(
        kind=kind,
        message_id=root.get("ID", ""),
        issuer=unverified_issuer(xml),
        in_response_to=root.get("InResponseTo"),
        status=None if status is None else status.get("Value"),
        name_id=None if name_id is None else (name_id.text or "").strip(),
        session_indexes=tuple(
            (item.text or "").strip() for item in children(root, f"{{{SAMLP}}}SessionIndex")
        ),
        relay_state=relay_state,
    )


def _parse(xml: bytes) -> Element:
    try:
        return parse_xml(xml, max_bytes=MAX_MESSAGE_BYTES, what="logout message")
    except UnsafeXML as exc:
        raise InvalidSAMLResponse(exc.message) from exc


def _local(root: Element) -> str:
    return str(etree.QName(root).localname)
