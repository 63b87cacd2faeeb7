"""What every verifier hands downstream: a frozen, library-free `VerifiedIdentity`.

Nothing after `verify/` sees a pysaml2 or authlib object. Claims are normalised once
(CONVENTIONS 3): every attribute is a tuple of strings (a scalar becomes a one-item
tuple), a missing groups claim is an empty tuple.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

Protocol = Literal["saml", "oidc", "local"]


@dataclass(frozen=True)
class VerifiedIdentity:
    protocol: Protocol
    provider_arn: str  # the IAM SAML/OIDC provider this identity came through
    issuer: str  # SAML Issuer / OIDC `iss`
    subject: str  # SAML NameID / OIDC `sub`
    audience: str  # SAML: the Recipient (ACS URL), as `saml:aud`; OIDC: the client id
    expires_at: datetime  # assertion NotOnOrAfter / token `exp`
    message_id: str  # SAML assertion ID / OIDC `jti` or a digest of the token
    authenticated_at: datetime | None = None
    subject_type: str | None = None  # SAML NameID Format (short form, as STS reports it)
    name_qualifier: str | None = None
    session_not_on_or_after: datetime | None = None  # SAML AuthnStatement, caps the session
    mfa: bool = False
    amr: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def attribute(self, name: str) -> tuple[str, ...]:
        """An attribute's values, or an empty tuple when absent."""
        return self.attributes.get(name, ())


def as_values(value: object) -> tuple[str, ...]:
    """Normalise a claim to a tuple of strings, once for every verifier: None → (), a
    scalar → one item, a list → its items; strings as they are, anything else (numbers,
    booleans, nested objects) as compact JSON (`true`, `5`, `{"k":"v"}`)."""
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(_text(item) for item in items if item is not None)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_TIMES = ("expires_at", "authenticated_at", "session_not_on_or_after")


def identity_to_json(identity: VerifiedIdentity) -> dict[str, Any]:
    """A JSON-ready form of `identity` (times as ISO 8601, tuples as lists)."""
    data: dict[str, Any] = asdict(identity)
    for name in _TIMES:
        value = data[name]
        data[name] = value.isoformat() if isinstance(value, datetime) else None
    data["attributes"] = {k: list(v) for k, v in identity.attributes.items()}
    data["amr"], data["groups"] = list(identity.amr), list(identity.groups)
    return data


def identity_from_json(data: Mapping[str, Any]) -> VerifiedIdentity:
    """The inverse of `identity_to_json` (raises `KeyError`/`ValueError` on a bad form)."""
    values = dict(data)
    for name in _TIMES:
        value = values.get(name)
        values[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
    values["amr"] = tuple(values.get("amr", ()))
    values["groups"] = tuple(values.get("groups", ()))
    values["attributes"] = {k: tuple(v) for k, v in dict(values.get("attributes", {})).items()}
    return VerifiedIdentity(**values)
