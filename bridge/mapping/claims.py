"""`Claims`: what mapping rules look at, built once from a verified identity or a saved file.

Every claim is a tuple of strings (CONVENTIONS 3). Three names are always present:
`sub` (SAML NameID / OIDC `sub`), `iss` (SAML Issuer / OIDC `iss`) and `groups` (the
group attributes the verifier read; a missing groups claim is an empty tuple, never a
fault). A saved claims file is a JSON object of claim → string or list; its groups are
read from the same attribute names the SAML verifier reads (`groups`, `memberOf`,
`http://schemas.microsoft.com/ws/2008/06/identity/claims/groups`). The key `provider`
at the top of a saved file names the provider and is not a claim.

Entra ID leaves groups out of a token that would carry too many and says so in
`_claim_names` (the "overage" claim); `groups_overage` records it so the person
signing in is told why no group matched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from bridge.errors import InvalidInput
from bridge.verify.identity import VerifiedIdentity, as_values
from bridge.verify.saml_claims import GROUP_ATTRIBUTES

PROVIDER_KEY = "provider"
OVERAGE_CLAIM = "_claim_names"


@dataclass(frozen=True)
class Claims:
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups_overage: bool = False

    def get(self, name: str) -> tuple[str, ...]:
        """A claim's values; an empty tuple when absent."""
        return self.values.get(name, ())

    @property
    def subject(self) -> str:
        return _first(self.get("sub"))

    @property
    def issuer(self) -> str:
        return _first(self.get("iss"))

    @property
    def groups(self) -> tuple[str, ...]:
        return self.get("groups")

    def with_groups(self, groups: tuple[str, ...]) -> Claims:
        return Claims({**self.values, "groups": groups}, self.groups_overage)


def claims_from_identity(identity: VerifiedIdentity) -> Claims:
    """The claims of a verified identity: its attributes plus `sub`, `iss`, `groups`, `amr`."""
    values: dict[str, tuple[str, ...]] = dict(identity.attributes)
    values["sub"] = (identity.subject,)
    values["iss"] = (identity.issuer,)
    values["groups"] = identity.groups
    if identity.amr:
        values["amr"] = identity.amr
    return Claims(values, _overage(values.get(OVERAGE_CLAIM, ())))


def claims_from_json(obj: object, where: str = "claims") -> Claims:
    """Claims from a saved JSON object of claim → string | list (the `provider` key dropped).

    Raises `InvalidInput` naming `where` when the object is not a JSON object."""
    if not isinstance(obj, Mapping):
        raise InvalidInput(where, f"expected a JSON object of claims, got {type(obj).__name__}")
    values: dict[str, tuple[str, ...]] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InvalidInput(where, f"claim names must be strings, got `{key}`")
        if key != PROVIDER_KEY:
            values[key] = as_values(value)
    groups: dict[str, None] = {}
    for name in sorted(GROUP_ATTRIBUTES & values.keys()):
        groups.update(dict.fromkeys(values[name]))
    values["groups"] = tuple(groups)
    return Claims(values, _overage(values.get(OVERAGE_CLAIM, ())))


def provider_of(obj: object) -> str | None:
    """The `provider` key of a saved claims file, when it has one."""
    if isinstance(obj, Mapping):
        value = obj.get(PROVIDER_KEY)
        if isinstance(value, str) and value:
            return value
    return None


def _overage(values: tuple[str, ...]) -> bool:
    """True when `_claim_names` names a `groups` source (Entra ID group overage)."""
    for text in values:
        try:
            names = json.loads(text)
        except ValueError:
            continue
        if isinstance(names, dict) and "groups" in names:
            return True
    return False


def _first(values: tuple[str, ...]) -> str:
    return values[0] if values else ""
