"""Hardened parsing and reading of untrusted XML (SAML messages, IdP metadata).

Parsing: UTF-8 only, a size cap, no DOCTYPE at all (so no DTD, no entity declaration,
no billion laughs, no external entity), lxml with entity resolution, network access,
DTD loading and huge trees off. Comments are dropped while parsing: exclusive
canonicalization without comments (the only one the verifier accepts) ignores them
too, so a signature stays valid, and `alice@example.com<!---->.evil.com` reads as the
whole signed text `alice@example.com.evil.com` (the comment-injection defence).

Reading: `text_of` refuses mixed content, `child`/`children` look at direct children
only, `parse_datetime` accepts xs:dateTime with a timezone (SAML core 1.3.3).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

from lxml import etree

from bridge.verify.saml_errors import UnsafeXML

DEFAULT_MAX_BYTES = 256 * 1024
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
ID_ATTRIBUTES = ("ID", "Id", "id", XML_ID)
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
)

Element = etree._Element


def decode_base64(text: str, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str) -> bytes:
    """Strict base64 (whitespace between lines allowed) with a size cap on both forms."""
    if len(text) > max_bytes * 4 // 3 + 4096:
        raise UnsafeXML(f"{what}: larger than the {max_bytes}-byte limit")
    compact = "".join(text.split())
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnsafeXML(f"{what}: not valid base64 ({exc})") from exc
    if len(data) > max_bytes:
        raise UnsafeXML(f"{what}: {len(data)} bytes, larger than the {max_bytes}-byte limit")
    return data


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_blank_text=False,
    )


def _check_prolog(data: bytes, what: str) -> None:
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8_NAMES:
        raise UnsafeXML(f"{what}: encoding `{declared.group(1).decode()}` refused, use UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeXML(f"{what}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise UnsafeXML(f"{what}: a DOCTYPE or entity declaration is not allowed")


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str) -> Element:
    """Parse untrusted bytes into a root element under the rules of this module."""
    if len(data) > max_bytes:
        raise UnsafeXML(f"{what}: {len(data)} bytes, larger than the {max_bytes}-byte limit")
    _check_prolog(data, what)
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXML(f"{what}: not well-formed XML ({exc.msg})") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXML(f"{what}: a DOCTYPE is not allowed")
    return root


def parse_fragment(
    data: bytes, namespaces: Mapping[str | None, str], *, max_bytes: int, what: str
) -> Element:
    """Parse one element serialized out of its document (a decrypted EncryptedAssertion).

    The plaintext may use prefixes declared on its former ancestors (xmlenc-core 4.5), so
    it is parsed inside a wrapper declaring `namespaces`; it must be exactly one element.
    """
    declarations = "".join(
        f" xmlns:{prefix}={quoteattr(uri)}" if prefix else f" xmlns={quoteattr(uri)}"
        for prefix, uri in namespaces.items()
    )
    wrapper = parse_xml(
        f"<fragment{declarations}>".encode() + data + b"</fragment>",
        max_bytes=max_bytes + 4096,
        what=what,
    )
    elements = [node for node in wrapper if isinstance(node.tag, str)]
    if len(elements) != 1 or (wrapper.text or "").strip() or (elements[0].tail or "").strip():
        raise UnsafeXML(f"{what}: the plaintext is not exactly one element")
    return elements[0]


def index_ids(root: Element, *, what: str) -> dict[str, Element]:
    """Every ID-like attribute value in the tree; a value seen twice is refused (XSW)."""
    seen: dict[str, Element] = {}
    for element in root.iter(etree.Element):
        for name in ID_ATTRIBUTES:
            value = element.get(name)
            if value is None:
                continue
            if value in seen:
                raise UnsafeXML(f"{what}: the ID `{value}` appears more than once")
            seen[value] = element
    return seen


def children(parent: Element, tag: str) -> list[Element]:
    """Direct children with the given `{namespace}name` tag, in document order."""
    return [child for child in parent if child.tag == tag]


def child(parent: Element, tag: str, *, where: str, required: bool = True) -> Element | None:
    """The one direct child with `tag`; more than one is refused, none only if optional."""
    found = children(parent, tag)
    if len(found) > 1:
        raise UnsafeXML(f"{where}: more than one {local_name(tag)} element")
    if not found and required:
        raise UnsafeXML(f"{where}: the {local_name(tag)} element is missing")
    return found[0] if found else None


def one(parent: Element, tag: str, *, where: str) -> Element:
    """The one direct child with `tag`; missing or repeated is refused."""
    found = children(parent, tag)
    if len(found) != 1:
        what = "missing" if not found else "repeated"
        raise UnsafeXML(f"{where}: the {local_name(tag)} element is {what}, expected exactly one")
    return found[0]


def tag_of(element: Element) -> str:
    """The `{namespace}name` tag as text (comments and PIs have none)."""
    tag = element.tag
    return tag if isinstance(tag, str) else ""


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def text_of(element: Element, *, where: str) -> str:
    """The whole text content of a simple element; child elements are refused."""
    if any(isinstance(node.tag, str) for node in element):
        raise UnsafeXML(f"{where}: element content is not allowed, expected text")
    return "".join(element.itertext()).strip()


def parse_datetime(value: str, *, where: str) -> datetime:
    """An xs:dateTime with a timezone, as an aware UTC datetime (fractions cut to µs)."""
    match = _DATETIME.match(value.strip())
    if not match:
        raise UnsafeXML(f"{where}: `{value}` is not an xs:dateTime with a timezone")
    base, fraction, zone = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if zone == "Z" else zone
    try:
        parsed = datetime.fromisoformat(f"{base}.{micro}{zone}")
    except ValueError as exc:
        raise UnsafeXML(f"{where}: `{value}` is not a valid date and time") from exc
    return parsed.astimezone(UTC)


def optional_datetime(element: Element, name: str, *, where: str) -> datetime | None:
    value = element.get(name)
    return None if value is None else parse_datetime(value, where=f"{where}@{name}")
