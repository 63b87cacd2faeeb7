"""XML rendering of Query API responses, in each service's namespace.

A result is plain data: a dict renders as child elements in insertion order, a list
as `<member>` items, a `bool` as `true`/`false`, a `datetime` as ISO 8601 UTC with `Z`,
`None` is left out. `<Action>Result` is always present for actions with an output
(botocore looks it up by name), and `ResponseMetadata/RequestId` always.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

Result = Mapping[str, Any]
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def iso8601(moment: datetime) -> str:
    """AWS's timestamp form: UTC, seconds, `Z` (botocore parses it into an aware datetime)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_policy(document: str) -> str:
    """Policy documents travel URL-encoded in IAM responses (botocore unquotes them)."""
    return quote(document, safe="")


def render_success(
    service: str, action: str, result: Result | None, request_id: str, *, has_output: bool
) -> bytes:
    root = ET.Element(f"{action}Response", xmlns=NAMESPACES[service])
    if has_output:
        _fill(ET.SubElement(root, f"{action}Result"), result or {})
    metadata = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(metadata, "RequestId").text = request_id
    return _serialise(root)


def render_error(service: str, kind: str, code: str, message: str, request_id: str) -> bytes:
    root = ET.Element("ErrorResponse", xmlns=NAMESPACES.get(service, NAMESPACES["iam"]))
    error = ET.SubElement(root, "Error")
    ET.SubElement(error, "Type").text = kind
    ET.SubElement(error, "Code").text = code
    ET.SubElement(error, "Message").text = message
    ET.SubElement(root, "RequestId").text = request_id
    return _serialise(root)


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if child is not None:
                _fill(ET.SubElement(parent, key), child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for item in value:
            _fill(ET.SubElement(parent, "member"), item)
    else:
        parent.text = _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso8601(value)
    return str(value)


def _serialise(root: ET.Element) -> bytes:
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode")).encode("utf-8")
