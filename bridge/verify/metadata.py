"""Read an IdP's SAML 2.0 metadata safely: entity id, signing certificates, validUntil.

SAML metadata 2.4.1 (`KeyDescriptor`): a key with `use="signing"` or without `use`
signs; several keys are kept so that a certificate rollover works (the verifier tries
each). Certificates are trusted because an administrator registered the document,
so their own validity dates are not checked (as IAM does); the document's
`validUntil` (metadata 2.3.1, on any enclosing element) is, and expired metadata is
refused. The metadata's own signature is not checked (IAM does not either).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from bridge.verify.saml_errors import InvalidSAMLMetadata, UnsafeXML
from bridge.verify.xmlsafe import (
    Element,
    children,
    optional_datetime,
    parse_xml,
    tag_of,
)

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
MAX_METADATA_BYTES = 1024 * 1024


@dataclass(frozen=True)
class IdPMetadata:
    entity_id: str
    signing_certificates: tuple[bytes, ...]  # DER, in document order
    valid_until: datetime | None = None


def parse_idp_metadata(document: str | bytes, *, now: datetime) -> IdPMetadata:
    """Parse `document` (an EntityDescriptor, or an EntitiesDescriptor with one IdP)."""
    data = document.encode("utf-8") if isinstance(document, str) else document
    try:
        root = parse_xml(data, max_bytes=MAX_METADATA_BYTES, what="metadata")
        metadata = _read(root)
    except UnsafeXML as exc:
        raise InvalidSAMLMetadata(exc.message) from exc
    check_fresh(metadata, now=now)
    return metadata


def check_fresh(metadata: IdPMetadata, *, now: datetime) -> None:
    """Refuse metadata whose validUntil has passed (metadata 2.3.1)."""
    if metadata.valid_until is not None and metadata.valid_until <= now:
        raise InvalidSAMLMetadata(
            f"metadata: expired, validUntil `{metadata.valid_until.isoformat()}` "
            f"is not after now `{now.isoformat()}`"
        )


def _read(root: Element) -> IdPMetadata:
    entity, limits = _idp_entity(root)
    entity_id = entity.get("entityID", "").strip()
    if not entity_id:
        raise InvalidSAMLMetadata("metadata/EntityDescriptor@entityID: missing or empty")
    idps = children(entity, f"{{{MD}}}IDPSSODescriptor")
    descriptors = [d for d in idps if SAML2_PROTOCOL in d.get("protocolSupportEnumeration", "")]
    if len(descriptors) != 1:
        raise InvalidSAMLMetadata(
            f"metadata/EntityDescriptor `{entity_id}`: expected one IDPSSODescriptor "
            f"supporting `{SAML2_PROTOCOL}`, found {len(descriptors)}"
        )
    certificates = _signing_certificates(descriptors[0])
    dates = [optional_datetime(e, "validUntil", where="metadata") for e in [*limits, entity]]
    dates.append(optional_datetime(descriptors[0], "validUntil", where="metadata"))
    known = [d for d in dates if d is not None]
    return IdPMetadata(entity_id, certificates, min(known) if known else None)


def _idp_entity(root: Element) -> tuple[Element, list[Element]]:
    """The EntityDescriptor of the IdP, with its enclosing EntitiesDescriptor elements."""
    if root.tag == f"{{{MD}}}EntityDescriptor":
        return root, []
    if root.tag != f"{{{MD}}}EntitiesDescriptor":
        raise InvalidSAMLMetadata(
            f"metadata: root element `{tag_of(root)}` is not an EntityDescriptor"
            " or EntitiesDescriptor"
        )
    entities = [
        e
        for e in root.iter(f"{{{MD}}}EntityDescriptor")
        if children(e, f"{{{MD}}}IDPSSODescriptor")
    ]
    if len(entities) != 1:
        raise InvalidSAMLMetadata(
            f"metadata/EntitiesDescriptor: expected one IdP EntityDescriptor, found {len(entities)}"
        )
    enclosing = [a for a in entities[0].iterancestors() if a.tag == f"{{{MD}}}EntitiesDescriptor"]
    return entities[0], enclosing


def _signing_certificates(descriptor: Element) -> tuple[bytes, ...]:
    found: list[bytes] = []
    for key in children(descriptor, f"{{{MD}}}KeyDescriptor"):
        if key.get("use", "signing") != "signing":
            continue
        for node in key.iter(f"{{{DS}}}X509Certificate"):
            found.append(_certificate(node.text or ""))
    if not found:
        raise InvalidSAMLMetadata(
            "metadata/IDPSSODescriptor/KeyDescriptor: no signing certificate "
            '(`use="signing"` or no `use`)'
        )
    return tuple(dict.fromkeys(found))


def _certificate(text: str) -> bytes:
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
        x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSAMLMetadata(
            f"metadata/KeyDescriptor/X509Certificate: not a base64 DER certificate ({exc})"
        ) from exc
    return der
