"""The decision trace of one sign-in: who it was, every rule and why, what trust said.

Administrators read `to_dict()` in the audit log's details; the person signing in
sees `user_summary()`, a short text that names only their own groups and the provider
(never a rule, a claim value other than groups, or a policy). Secrets never enter a
trace: claims whose names mark them as secrets are replaced by `***` (CONVENTIONS 14).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bridge.audit import redact
from bridge.mapping.claims import Claims

SECRET_CLAIMS = frozenset(
    {"nonce", "at_hash", "c_hash", "code", "_claim_sources", "client_secret", "assertion"}
)
MAX_VALUES = 50  # values kept per claim in the trace
SHOWN_GROUPS = 10  # groups named in the person's summary


@dataclass(frozen=True)
class IdentitySummary:
    subject: str
    issuer: str
    groups: tuple[str, ...]  # after the group filter
    groups_filtered_out: int = 0
    groups_overage: bool = False
    claims: Mapping[str, Any] = field(default_factory=dict)  # secrets removed

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "groups": list(self.groups),
            "groups_filtered_out": self.groups_filtered_out,
            "groups_overage": self.groups_overage,
            "claims": dict(self.claims),
        }


@dataclass(frozen=True)
class RuleEntry:
    rule_id: str
    matched: bool
    why: str
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrustEntry:
    role_arn: str
    accepted: bool
    why: str


@dataclass
class Trace:
    """Built by `map_identity`; trust outcomes are added as the federation path learns them."""

    provider: str
    identity: IdentitySummary
    rules: tuple[RuleEntry, ...] = ()
    candidates: tuple[str, ...] = ()
    trust: list[TrustEntry] = field(default_factory=list)

    def record_trust(self, role_arn: str, accepted: bool, why: str) -> None:
        """Note what the role's trust policy said about this sign-in."""
        self.trust.append(TrustEntry(role_arn, accepted, why))

    def with_trust(self, role_arn: str, accepted: bool, why: str) -> Trace:
        """A copy with one more trust outcome (this trace unchanged)."""
        return replace(self, trust=[*self.trust, TrustEntry(role_arn, accepted, why)])

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(entry.role_arn for entry in self.trust if entry.accepted)

    def to_dict(self) -> dict[str, Any]:
        """The full trace, JSON-ready, for audit event details and `--json` output."""
        return {
            "provider": self.provider,
            "identity": self.identity.to_dict(),
            "rules": [
                {"id": e.rule_id, "matched": e.matched, "why": e.why, "roles": list(e.roles)}
                for e in self.rules
            ],
            "candidates": list(self.candidates),
            "trust": [
                {"role_arn": e.role_arn, "accepted": e.accepted, "why": e.why} for e in self.trust
            ],
            "granted": list(self.accepted),
        }

    def user_summary(self, provider: str | None = None) -> str:
        """A short text safe to show the person signing in, e.g. `your groups were staff,
        admins; no rule matched them for provider corp-okta`."""
        name = provider or self.provider
        groups = self._groups_text()
        if not self.candidates:
            return f"{groups}; no rule matched them for provider {name}"
        if self.trust and not self.accepted:
            return (
                f"{groups}; the rules for provider {name} proposed roles, "
                "but no role's trust policy accepts this sign-in"
            )
        roles = ", ".join(_role_name(role) for role in (self.accepted or self.candidates))
        return f"{groups}; roles for provider {name}: {roles}"

    def _groups_text(self) -> str:
        if self.identity.groups_overage and not self.identity.groups:
            return (
                "your token says you are in too many groups to list them, "
                "and no group lookup is configured"
            )
        groups = self.identity.groups
        if not groups:
            return "you have no groups"
        shown = ", ".join(groups[:SHOWN_GROUPS])
        more = len(groups) - SHOWN_GROUPS
        return f"your groups were {shown}" + (f" and {more} more" if more > 0 else "")


def summarise(claims: Claims, groups_before: int) -> IdentitySummary:
    """The normalised identity with secrets removed, for the trace."""
    return IdentitySummary(
        subject=claims.subject,
        issuer=claims.issuer,
        groups=claims.groups,
        groups_filtered_out=max(groups_before - len(claims.groups), 0),
        groups_overage=claims.groups_overage,
        claims=safe_claims(claims),
    )


def safe_claims(claims: Claims) -> dict[str, Any]:
    """Claims as JSON values (one value → a string), secrets replaced by `***`."""
    shown: dict[str, Any] = {}
    for name, values in sorted(claims.values.items()):
        kept = list(values[:MAX_VALUES])
        if len(values) > MAX_VALUES:
            kept.append(f"… {len(values) - MAX_VALUES} more")
        shown[name] = kept[0] if len(kept) == 1 else kept
    hidden = redact(shown)
    return {k: "***" if is_secret_claim(k) else v for k, v in hidden.items()}


def is_secret_claim(name: str) -> bool:
    return name.lower() in SECRET_CLAIMS or redact({name: ""})[name] == "***"


def _role_name(role: str) -> str:
    return role.rsplit("/", 1)[-1]
