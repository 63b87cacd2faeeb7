"""XML signature verification and assertion decryption, in process, with python-xmlsec.

Rules (SAML core 5.4, xmldsig-core 4.3):
- one enveloped `ds:Signature`, a direct child of the signed element, whose single
  `Reference` URI is `#` + that element's `ID` (the caller has refused duplicate IDs
  in the document, so xmlsec's lookup of the URI can only find that element);
- `CanonicalizationMethod` and the reference transforms: exclusive c14n without
  comments and enveloped-signature only; signature and digest algorithms from an
  allowlist of SHA-256 and stronger, SHA-1 only when the caller allows it;
- the key is set on the context from the provider's metadata, so xmlsec never reads
  `KeyInfo` (a certificate embedded in the message is not trusted);
- after verification the caller gets an isolated copy of the signed element and reads
  every value from it, never from the surrounding, unsigned document.

Decryption (xmlenc-core 3.5): RSA-OAEP key transport and AES-CBC/GCM only; the
plaintext comes back as bytes for the hardened parser, never parsed by xmlsec.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import xmlsec

if TYPE_CHECKING:
    from xmlsec.constants import __Transform as Transform

from bridge.verify.saml_errors import InvalidSAMLResponse
from bridge.verify.xmlsafe import Element, children

DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
C = xmlsec.constants

SIGNATURE_METHODS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": C.TransformRsaSha256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": C.TransformRsaSha384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": C.TransformRsaSha512,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": C.TransformEcdsaSha256,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": C.TransformEcdsaSha384,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": C.TransformEcdsaSha512,
}
SHA1_SIGNATURE_METHODS = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": C.TransformRsaSha1,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": C.TransformEcdsaSha1,
}
DIGEST_METHODS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": C.TransformSha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": C.TransformSha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": C.TransformSha512,
}
SHA1_DIGEST_METHODS = {"http://www.w3.org/2000/09/xmldsig#sha1": C.TransformSha1}
DATA_ENCRYPTION = frozenset(
    {
        f"{XENC}aes128-cbc",
        f"{XENC}aes192-cbc",
        f"{XENC}aes256-cbc",
        "http://www.w3.org/2009/xmlenc11#aes128-gcm",
        "http://www.w3.org/2009/xmlenc11#aes192-gcm",
        "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    }
)
KEY_TRANSPORT = frozenset({f"{XENC}rsa-oaep-mgf1p", "http://www.w3.org/2009/xmlenc11#rsa-oaep"})


@dataclass(frozen=True)
class VerifiedElement:
    """An isolated copy of the element a signature covered, and whether SHA-1 was used."""

    element: Element
    used_sha1: bool


@dataclass(frozen=True)
class _Algorithms:
    signature: Transform
    digest: Transform
    used_sha1: bool


@dataclass(frozen=True)
class TrustedKeys:
    """The verification keys of one provider, loaded once from its metadata certificates."""

    keys: tuple[xmlsec.Key, ...]


def load_keys(certificates: Sequence[bytes]) -> TrustedKeys:
    """xmlsec keys for DER certificates taken from the provider metadata."""
    fmt = xmlsec.constants.KeyDataFormatCertDer
    return TrustedKeys(tuple(xmlsec.Key.from_memory(der, fmt) for der in certificates))


def signature_of(element: Element, *, where: str) -> Element | None:
    """The enveloped signature of `element` (a direct child), if any; two are refused."""
    found = children(element, f"{{{DS}}}Signature")
    if len(found) > 1:
        raise InvalidSAMLResponse(f"{where}: more than one ds:Signature")
    return found[0] if found else None


def verify_enveloped(
    element: Element, trusted: TrustedKeys, *, allow_sha1: bool, where: str
) -> VerifiedElement:
    """Verify the enveloped signature of `element` with one of `keys` (metadata only)."""
    signature = signature_of(element, where=where)
    if signature is None:
        raise InvalidSAMLResponse(f"{where}: not signed")
    algorithms = _check_signed_info(signature, element, allow_sha1=allow_sha1, where=where)
    xmlsec.tree.add_ids(element.getroottree().getroot(), ["ID"])
    if not any(_verifies(signature, key, algorithms) for key in trusted.keys):
        raise InvalidSAMLResponse(
            f"{where}/ds:Signature: does not verify with any of the {len(trusted.keys)} signing "
            "certificates in the provider metadata"
        )
    return VerifiedElement(copy.deepcopy(element), algorithms.used_sha1)


def _verifies(signature: Element, key: xmlsec.Key, algorithms: _Algorithms) -> bool:
    ctx = xmlsec.SignatureContext()
    ctx.key = key
    for transform in (C.TransformExclC14N, C.TransformEnveloped, algorithms.digest):
        ctx.enable_reference_transform(transform)
    ctx.enable_signature_transform(C.TransformExclC14N)
    ctx.enable_signature_transform(algorithms.signature)
    try:
        ctx.verify(signature)
    except xmlsec.Error:  # VerificationError, or a key of another type
        return False
    return True


def _algorithm(parent: Element, tag: str, *, where: str) -> str:
    found = children(parent, f"{{{DS}}}{tag}")
    if len(found) != 1 or not found[0].get("Algorithm"):
        raise InvalidSAMLResponse(f"{where}/ds:{tag}: expected one element with an Algorithm")
    return str(found[0].get("Algorithm"))


def _pick(
    uri: str,
    strong: dict[str, Transform],
    weak: dict[str, Transform],
    *,
    allow_sha1: bool,
    where: str,
) -> tuple[Transform, bool]:
    """The transform for an allowed algorithm URI, and whether it is a SHA-1 one."""
    if uri in strong:
        return strong[uri], False
    if uri in weak and allow_sha1:
        return weak[uri], True
    hint = " (SHA-1 is refused unless the provider allows it)" if uri in weak else ""
    raise InvalidSAMLResponse(f"{where}: algorithm `{uri}` is not allowed{hint}")


def _check_signed_info(
    signature: Element, element: Element, *, allow_sha1: bool, where: str
) -> _Algorithms:
    where = f"{where}/ds:Signature/ds:SignedInfo"
    signed_info = children(signature, f"{{{DS}}}SignedInfo")
    if len(signed_info) != 1:
        raise InvalidSAMLResponse(f"{where}: expected exactly one SignedInfo")
    info = signed_info[0]
    if _algorithm(info, "CanonicalizationMethod", where=where) != EXC_C14N:
        raise InvalidSAMLResponse(f"{where}/ds:CanonicalizationMethod: must be `{EXC_C14N}`")
    method = _algorithm(info, "SignatureMethod", where=where)
    sig, weak_sig = _pick(
        method,
        SIGNATURE_METHODS,
        SHA1_SIGNATURE_METHODS,
        allow_sha1=allow_sha1,
        where=f"{where}/ds:SignatureMethod",
    )
    reference = _reference(info, element, where=where)
    digest_uri = _algorithm(reference, "DigestMethod", where=f"{where}/ds:Reference")
    digest, weak_digest = _pick(
        digest_uri,
        DIGEST_METHODS,
        SHA1_DIGEST_METHODS,
        allow_sha1=allow_sha1,
        where=f"{where}/ds:Reference/ds:DigestMethod",
    )
    return _Algorithms(sig, digest, weak_sig or weak_digest)


def _reference(info: Element, element: Element, *, where: str) -> Element:
    references = children(info, f"{{{DS}}}Reference")
    if len(references) != 1:
        raise InvalidSAMLResponse(
            f"{where}: expected exactly one Reference, found {len(references)}"
        )
    reference = references[0]
    element_id = element.get("ID")
    if not element_id or reference.get("URI") != f"#{element_id}":
        raise InvalidSAMLResponse(
            f"{where}/ds:Reference@URI: `{reference.get('URI')}` does not point at the signed "
            f"element's ID `{element_id}`"
        )
    transforms = [t.get("Algorithm") for t in reference.iter(f"{{{DS}}}Transform")]
    if (
        ENVELOPED not in transforms
        or not set(transforms) <= {ENVELOPED, EXC_C14N}
        or len(transforms) != len(set(transforms))
    ):
        raise InvalidSAMLResponse(
            f"{where}/ds:Reference/ds:Transforms: expected enveloped-signature and exclusive "
            f"c14n only, saw {', '.join(f'`{t}`' for t in transforms)}"
        )
    return reference


@dataclass(frozen=True)
class DecryptionKey:
    """The SP's private key in an xmlsec keys manager (building one costs ~25 ms)."""

    manager: xmlsec.KeysManager


def load_decryption_key(private_key_pem: bytes) -> DecryptionKey:
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(private_key_pem, xmlsec.constants.KeyDataFormatPem))
    return DecryptionKey(manager)


def decrypt(encrypted: Element, key: DecryptionKey, *, where: str) -> bytes:
    """Decrypt an EncryptedAssertion (or EncryptedID) with the SP key; the plaintext bytes."""
    data_nodes = children(encrypted, f"{{{XENC}}}EncryptedData")
    if len(data_nodes) != 1:
        raise InvalidSAMLResponse(f"{where}: expected exactly one xenc:EncryptedData")
    data = _standalone(data_nodes[0], children(encrypted, f"{{{XENC}}}EncryptedKey"), where)
    _check_encryption(data, where)
    try:
        plain: object = xmlsec.EncryptionContext(key.manager).decrypt(data)
    except xmlsec.Error as exc:
        raise InvalidSAMLResponse(f"{where}: cannot be decrypted with the SP key ({exc})") from exc
    if not isinstance(plain, bytes):  # pragma: no cover - Type was removed, xmlsec gives bytes
        raise InvalidSAMLResponse(f"{where}: decryption did not produce bytes")
    return plain


def _standalone(data: Element, siblings: list[Element], where: str) -> Element:
    """A copy of EncryptedData with its EncryptedKey inside KeyInfo and no Type.

    Without `Type`, xmlsec returns the plaintext instead of parsing it into the tree.
    An EncryptedKey placed beside EncryptedData (SAML core 2.2.4) is moved into KeyInfo.
    """
    data = copy.deepcopy(data)
    data.attrib.pop("Type", None)
    key_info = children(data, f"{{{DS}}}KeyInfo")
    holder = key_info[0] if key_info else _new_key_info(data)
    inside = list(holder.iter(f"{{{XENC}}}EncryptedKey"))
    if not inside:
        if len(siblings) != 1:
            raise InvalidSAMLResponse(f"{where}: expected exactly one xenc:EncryptedKey")
        for method in list(holder):
            holder.remove(method)
        holder.append(copy.deepcopy(siblings[0]))
    return data


def _new_key_info(data: Element) -> Element:
    key_info = data.makeelement(f"{{{DS}}}KeyInfo", nsmap={"ds": DS})
    data.insert(1, key_info)
    return key_info


def _check_encryption(data: Element, where: str) -> None:
    methods = children(data, f"{{{XENC}}}EncryptionMethod")
    algorithm = methods[0].get("Algorithm") if methods else None
    if algorithm not in DATA_ENCRYPTION:
        raise InvalidSAMLResponse(f"{where}/xenc:EncryptionMethod: `{algorithm}` is not allowed")
    for key in data.iter(f"{{{XENC}}}EncryptedKey"):
        transport = [m.get("Algorithm") for m in children(key, f"{{{XENC}}}EncryptionMethod")]
        if len(transport) != 1 or transport[0] not in KEY_TRANSPORT:
            raise InvalidSAMLResponse(
                f"{where}/xenc:EncryptedKey/xenc:EncryptionMethod: `{transport}` is not allowed"
            )
