"""IAM-style identifiers and ARNs, from an injected `Random`.

Unique ids are a four-letter kind prefix and 17 characters of `A-Z2-7`
(`AIDA…` users, `AGPA…` groups, `AROA…` roles, `ANPA…` managed policies);
access key ids are `AKIA…` (long-term) or `ASIA…` (temporary), 20 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bridge.clock import Random, random_string
from bridge.errors import InvalidInput

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"  # noqa: S105 - an alphabet, not a secret

EntityKind = Literal["user", "group", "role", "policy"]
ArnKind = Literal[
    "user", "group", "role", "policy", "mfa", "saml-provider", "oidc-provider", "root"
]

_PREFIXES: dict[EntityKind, str] = {
    "user": "AIDA",
    "group": "AGPA",
    "role": "AROA",
    "policy": "ANPA",
}
_PATHED_KINDS: dict[str, ArnKind] = {
    "user": "user",
    "group": "group",
    "role": "role",
    "policy": "policy",
    "mfa": "mfa",
}
_PROVIDER_KINDS: dict[str, ArnKind] = {
    "saml-provider": "saml-provider",
    "oidc-provider": "oidc-provider",
}
_ARN = re.compile(r"^arn:aws:iam::(?P<account>\d{12}|aws):(?P<resource>.+)$")


def unique_id(rng: Random, kind: EntityKind) -> str:
    """A 21-character unique id such as `AIDA` + 17 characters of `A-Z2-7`."""
    return _PREFIXES[kind] + random_string(rng, ID_ALPHABET, 17)


def access_key_id(rng: Random) -> str:
    """A long-term access key id: `AKIA` + 16 characters of `A-Z2-7`."""
    return "AKIA" + random_string(rng, ID_ALPHABET, 16)


def temporary_access_key_id(rng: Random) -> str:
    """A temporary access key id (STS credentials): `ASIA` + 16 characters."""
    return "ASIA" + random_string(rng, ID_ALPHABET, 16)


def secret_access_key(rng: Random) -> str:
    """A 40-character secret access key from the base64 alphabet."""
    return random_string(rng, SECRET_ALPHABET, 40)


def entity_arn(account_id: str, kind: ArnKind, path: str, name: str) -> str:
    """`arn:aws:iam::<account>:<kind>/<path without its leading slash><name>`."""
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def saml_provider_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:saml-provider/{name}"


def oidc_provider_arn(account_id: str, url: str) -> str:
    host_and_path = url.removeprefix("https://").removeprefix("http://")
    return f"arn:aws:iam::{account_id}:oidc-provider/{host_and_path}"


@dataclass(frozen=True)
class ParsedArn:
    account_id: str
    kind: ArnKind
    path: str  # "/" or "/…/" for pathed kinds, "/" otherwise
    name: str  # the name (the url without scheme for an OIDC provider, "" for root)


def parse_arn(arn: str, field: str = "arn") -> ParsedArn:
    """Split an IAM ARN into account, kind, path and name."""
    match = _ARN.match(arn)
    if match is None:
        raise InvalidInput(field, f"`{arn}` is not an iam arn (arn:aws:iam::<account>:...)")
    account, resource = match["account"], match["resource"]
    if resource == "root":
        return ParsedArn(account, "root", "/", "")
    kind, slash, rest = resource.partition("/")
    if not slash or not rest:
        raise InvalidInput(field, f"`{arn}` has no resource name after `{kind}/`")
    if kind in _PATHED_KINDS:
        head, _, name = rest.rpartition("/")
        path = f"/{head}/" if head else "/"
        return ParsedArn(account, _PATHED_KINDS[kind], path, name)
    if kind in _PROVIDER_KINDS:
        return ParsedArn(account, _PROVIDER_KINDS[kind], "/", rest)
    raise InvalidInput(field, f"`{arn}` names an unknown resource type `{kind}`")
