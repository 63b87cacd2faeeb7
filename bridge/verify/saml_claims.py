"""Claims read from a verified SAML Assertion: attributes, groups and the AuthnStatement.

Reads the signed element only (`saml.py` hands it over after the signature check) and
imports no SAML library: pysaml2 stays in `saml.py`, so the assertion namespace is
spelled out here (it is `saml2.NAMESPACE`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.verify.saml_errors import ExpiredSAMLResponse, InvalidSAMLResponse
from bridge.verify.xmlsafe import Element, children, optional_datetime, text_of

ASSERTION_NAMESPACE = "urn:oasis:names:tc:SAML:2.0:assertion"  # SAML core 2.1
GROUP_ATTRIBUTES = frozenset(
    {"groups", "memberOf", "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"}
)
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


def _a(name: str) -> str:
    return f"{{{ASSERTION_NAMESPACE}}}{name}"


def check_window(
    where: str,
    not_before: datetime | None,
    not_on_or_after: datetime | None,
    *,
    now: datetime,
    skew: timedelta,
) -> None:
    """NotBefore <= now < NotOnOrAfter, each widened by the provider's clock skew.

    SAML core 2.5.1.2 and 2.4.1.2; `where` names the element in the messages.
    """
    if not_before is not None and now + skew < not_before:
        early = not_before - now
        raise ExpiredSAMLResponse(
            f"{where}@NotBefore: not yet valid, `{not_before.isoformat()}` is "
            f"{early.total_seconds():g} s after now `{now.isoformat()}` "
            f"(allowed clock skew {skew.total_seconds():g} s)",
            early,
        )
    if not_on_or_after is not None and now - skew >= not_on_or_after:
        late = now - not_on_or_after
        raise ExpiredSAMLResponse(
            f"{where}@NotOnOrAfter: expired, `{not_on_or_after.isoformat()}` is "
            f"{late.total_seconds():g} s before now `{now.isoformat()}` "
            f"(allowed clock skew {skew.total_seconds():g} s)",
            late,
        )


@dataclass(frozen=True)
class Authn:
    """What the first AuthnStatement says, with the class refs of all of them."""

    instant: datetime
    session_not_on_or_after: datetime | None
    class_refs: tuple[str, ...]


def authn_statement(assertion: Element, *, now: datetime, skew: timedelta) -> Authn:
    """The AuthnStatement (profiles 4.1.4.2), SessionNotOnOrAfter checked with the skew."""
    statements = children(assertion, _a("AuthnStatement"))
    where = "Assertion/AuthnStatement"
    if not statements:
        raise InvalidSAMLResponse(f"{where}: missing (profiles 4.1.4.2)")
    first = statements[0]
    instant = optional_datetime(first, "AuthnInstant", where=where)
    if instant is None:
        raise InvalidSAMLResponse(f"{where}@AuthnInstant: missing")
    session_end = optional_datetime(first, "SessionNotOnOrAfter", where=where)
    check_window(where, None, session_end, now=now, skew=skew)
    refs = tuple(
        text_of(ref, where=f"{where}/AuthnContext/AuthnContextClassRef")
        for statement in statements
        for ref in statement.iter(_a("AuthnContextClassRef"))
    )
    return Authn(instant, session_end, refs)


def _attribute_elements(assertion: Element) -> Iterator[Element]:
    for statement in children(assertion, _a("AttributeStatement")):
        yield from children(statement, _a("Attribute"))


def _values(attribute: Element) -> tuple[str, ...]:
    return tuple(
        "".join(value.itertext()).strip()
        for value in children(attribute, _a("AttributeValue"))
        if value.get(XSI_NIL) not in ("true", "1")
    )


def read_attributes(assertion: Element) -> dict[str, tuple[str, ...]]:
    """Values by Name (repeated Attributes merged), then by FriendlyName where free."""
    by_name: dict[str, tuple[str, ...]] = {}
    friendly: dict[str, tuple[str, ...]] = {}
    for attribute in _attribute_elements(assertion):
        name = attribute.get("Name")
        if not name:
            raise InvalidSAMLResponse("Assertion/AttributeStatement/Attribute@Name: missing")
        values = _values(attribute)
        by_name[name] = by_name.get(name, ()) + values
        alias = attribute.get("FriendlyName")
        if alias:
            friendly[alias] = friendly.get(alias, ()) + values
    return by_name | {k: v for k, v in friendly.items() if k not in by_name}


def read_groups(assertion: Element) -> tuple[str, ...]:
    """Values of the group attributes (by Name or FriendlyName), first seen first, once."""
    found: dict[str, None] = {}
    for attribute in _attribute_elements(assertion):
        if {attribute.get("Name"), attribute.get("FriendlyName")} & GROUP_ATTRIBUTES:
            found.update(dict.fromkeys(_values(attribute)))
    return tuple(found)
