"""Query API XML: written as text, byte for byte what `xml.etree` writes for the same tree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from bridge.query.xml import NAMESPACES, XML_DECLARATION, iso8601, render_error, render_success

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=2)))


def _reference_fill(parent: ET.Element, value: Any) -> None:
    """The tree the renderer stood for before it wrote text itself (the oracle)."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            if child is not None:
                _reference_fill(ET.SubElement(parent, key), child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for item in value:
            _reference_fill(ET.SubElement(parent, "member"), item)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif isinstance(value, datetime):
        parent.text = iso8601(value)
    else:
        parent.text = str(value)


def _reference(service: str, action: str, result: Any, request_id: str, has_output: bool) -> bytes:
    root = ET.Element(f"{action}Response", xmlns=NAMESPACES[service])
    if has_output:
        _reference_fill(ET.SubElement(root, f"{action}Result"), result or {})
    metadata = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(metadata, "RequestId").text = request_id
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode")).encode("utf-8")


RESULTS = [
    pytest.param(
        {
            "Credentials": {"AccessKeyId": "ASIAEXAMPLE", "Expiration": WHEN},
            "PackedPolicySize": 0,
            "SourceIdentity": None,
        },
        id="credentials-with-a-left-out-none",
    ),
    pytest.param({"Subject": "a<b & c>d", "Audience": "\"'quotes'\""}, id="escaped-text"),
    pytest.param({"Flags": [True, False], "Count": 3, "Ratio": 0.5}, id="scalars"),
    pytest.param({"Tags": [{"Key": "team", "Value": "core"}, {"Key": "x"}]}, id="struct-members"),
    pytest.param({"Nested": [["a", "b"], []]}, id="lists-of-lists"),
    pytest.param({"Empty": "", "NoItems": [], "NoFields": {}}, id="empty-elements"),
    pytest.param({"Odd": [None, "ü → ✓"]}, id="none-member-and-unicode"),
    pytest.param({}, id="empty-result"),
    pytest.param(None, id="no-result"),
]


@pytest.mark.parametrize("result", RESULTS)
@pytest.mark.parametrize("has_output", [True, False], ids=["output", "no-output"])
def test_success_is_what_elementtree_writes(result: Any, has_output: bool) -> None:
    written = render_success("sts", "AssumeRole", result, "req-1", has_output=has_output)
    assert written == _reference("sts", "AssumeRole", result, "req-1", has_output)


ERRORS = [
    pytest.param("iam", "Sender", "NoSuchEntity", "role `a<b>` & co", "r-1", id="iam-escaped"),
    pytest.param("sts", "Receiver", "InternalFailure", "", "", id="sts-empty-message-and-id"),
    pytest.param("other", "Sender", "X", "m", "r", id="unknown-service-uses-iam-namespace"),
]


@pytest.mark.parametrize(("service", "kind", "code", "message", "request_id"), ERRORS)
def test_error_is_what_elementtree_writes(
    service: str, kind: str, code: str, message: str, request_id: str
) -> None:
    root = ET.Element("ErrorResponse", xmlns=NAMESPACES.get(service, NAMESPACES["iam"]))
    error = ET.SubElement(root, "Error")
    ET.SubElement(error, "Type").text = kind
    ET.SubElement(error, "Code").text = code
    ET.SubElement(error, "Message").text = message
    ET.SubElement(root, "RequestId").text = request_id
    expected = (XML_DECLARATION + ET.tostring(root, encoding="unicode")).encode("utf-8")
    assert render_error(service, kind, code, message, request_id) == expected


def test_the_document_parses_back_to_the_values() -> None:
    written = render_success("sts", "GetCallerIdentity", {"Arn": "a&<b>"}, "id", has_output=True)
    ns = {"sts": NAMESPACES["sts"]}
    root = ET.fromstring(written)
    assert root.findtext("sts:GetCallerIdentityResult/sts:Arn", namespaces=ns) == "a&<b>"
    assert root.findtext("sts:ResponseMetadata/sts:RequestId", namespaces=ns) == "id"


def test_times_are_utc_seconds_with_z() -> None:
    written = render_success("sts", "X", {"Expiration": WHEN}, "id", has_output=True)
    assert b"<Expiration>2026-01-02T01:04:05Z</Expiration>" in written
