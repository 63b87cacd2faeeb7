"""The `Principal` / `NotPrincipal` element of trust and resource policies.

* `"*"` and `{"AWS": "*"}` match every caller (anonymous included).
* An account id `123456789012` or `arn:aws:iam::123456789012:root` matches any
  principal of that account.
* Any other ARN matches that exact ARN; a role ARN also matches the sessions of
  that role (`arn:aws:sts::<account>:assumed-role/<role name>/<session>`), as IAM
  grants a role principal to its sessions.
* `Federated` matches `Principal.federated`, `Service` matches `Principal.service`
  (`"*"` matches any value of that field); `CanonicalUser` matches nobody here.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.policy.model import Principal

_ACCOUNT_DIGITS = 12
_ARN_PARTS = 6


def is_account_id(value: str) -> bool:
    return len(value) == _ACCOUNT_DIGITS and value.isdigit()


def _arn_parts(arn: str) -> list[str] | None:
    parts = arn.split(":", _ARN_PARTS - 1)
    return parts if len(parts) == _ARN_PARTS and parts[0] == "arn" else None


def _role_identity(arn: str) -> tuple[str, str] | None:
    """(account, role name) of a role ARN (path removed)."""
    parts = _arn_parts(arn)
    if parts is None or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


def _session_role(arn: str) -> tuple[str, str] | None:
    """(account, role name) of an assumed-role session ARN."""
    parts = _arn_parts(arn)
    if parts is None or parts[2] != "sts" or not parts[5].startswith("assumed-role/"):
        return None
    pieces = parts[5].split("/")
    return (parts[4], pieces[1]) if len(pieces) >= 3 else None


def _root_account(value: str) -> str | None:
    if is_account_id(value):
        return value
    parts = _arn_parts(value)
    if parts is not None and parts[2] == "iam" and parts[5] == "root":
        return parts[4]
    return None


class PrincipalMatcher:
    """Matches a caller against a parsed principal element (type -> values)."""

    __slots__ = ("accounts", "arns", "everyone", "federated", "negated", "roles", "services")

    def __init__(self, element: Mapping[str, tuple[str, ...]], *, negated: bool) -> None:
        self.negated = negated
        aws = element.get("AWS", ())
        self.everyone = "*" in aws or "*" in element.get("*", ())
        self.accounts = frozenset(a for a in map(_root_account, aws) if a is not None)
        self.arns = frozenset(aws)
        self.roles = frozenset(r for r in map(_role_identity, aws) if r is not None)
        self.federated = frozenset(element.get("Federated", ()))
        self.services = frozenset(element.get("Service", ()))

    def matches(self, principal: Principal | None) -> bool:
        return self._listed(principal) != self.negated

    def _listed(self, principal: Principal | None) -> bool:
        if self.everyone:
            return True
        if principal is None:
            return False
        return (
            principal.arn in self.arns
            or self._account(principal) in self.accounts
            or _session_role(principal.arn) in self.roles
            or _field_listed(principal.federated, self.federated)
            or _field_listed(principal.service, self.services)
        )

    @staticmethod
    def _account(principal: Principal) -> str | None:
        if principal.account is not None:
            return principal.account
        parts = _arn_parts(principal.arn)
        return parts[4] if parts is not None else None


def _field_listed(value: str | None, listed: frozenset[str]) -> bool:
    return value is not None and (value in listed or "*" in listed)
