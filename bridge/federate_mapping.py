"""Mapping in the federation path: which provider name an identity maps under, the
candidates (mapping rules, plus the SAML Role attribute as AWS's console reads it),
and the portal's role choices.

Mapping proposes, the trust policy disposes: `federate.py` checks every candidate
against its role's trust policy and records the outcome in the trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.errors import AccessDenied
from bridge.login_settings import OIDCLoginProvider, SAMLLoginProvider
from bridge.mapping.engine import Candidate, MappingResult, claims_from_identity, map_identity
from bridge.mapping.rules import MappingRules
from bridge.mapping.trace import Trace
from bridge.sessions import federated_attributes
from bridge.verify.identity import VerifiedIdentity

ROLE_ATTRIBUTE_RULE = "saml:Role"  # rule id of candidates read from the SAML Role attribute

LoginSettings = Mapping[str, OIDCLoginProvider | SAMLLoginProvider]


class MappingRefused(AccessDenied):
    """AccessDenied with the decision trace, for the audit event's details."""

    def __init__(self, message: str, trace: Trace) -> None:
        super().__init__(message)
        self.trace = trace


@dataclass(frozen=True)
class RoleChoice:
    """A role the person may assume from the portal: proposed and trusted."""

    role_arn: str
    description: str
    session_name: str
    tags: tuple[tuple[str, str], ...]
    duration_seconds: int | None
    rule_id: str
    source_identity: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role_arn": self.role_arn,
            "description": self.description,
            "session_name": self.session_name,
            "tags": [list(tag) for tag in self.tags],
            "duration_seconds": self.duration_seconds,
            "rule_id": self.rule_id,
        }


def provider_names(identity: VerifiedIdentity, login: LoginSettings) -> list[str]:
    """The names rules may use for the provider `identity` came through: the login
    providers configured for its IAM SAML provider or OIDC issuer, else the IAM SAML
    provider's name or the issuer without its scheme."""
    if identity.protocol == "saml":
        iam_name = identity.provider_arn.rsplit("saml-provider/", 1)[-1]
        names = [
            name
            for name, item in login.items()
            if isinstance(item, SAMLLoginProvider) and item.saml_provider == iam_name
        ]
        return names or [iam_name]
    names = [
        name
        for name, item in login.items()
        if isinstance(item, OIDCLoginProvider) and item.issuer == identity.issuer
    ]
    return names or [identity.issuer.removeprefix("https://").removeprefix("http://")]


def sts_mapping(
    rules: MappingRules, identity: VerifiedIdentity, login: LoginSettings
) -> MappingResult | None:
    """The mapping result for an STS call, or None when no rule names its provider
    (then the STS path stays as AWS has it: the trust policy alone decides)."""
    for name in provider_names(identity, login):
        if rules.has_rules_for(name):
            return map_identity(rules, name, claims_from_identity(identity))
    return None


def require_candidate(
    result: MappingResult, role_arn: str, account_id: str, action: str
) -> Candidate:
    """The candidate for `role_arn`, or AccessDenied naming that no rule proposes it."""
    for candidate in result.candidates:
        if candidate.role_arn(account_id) == role_arn:
            return candidate
    raise MappingRefused(
        f"Not authorized to perform {action} on {role_arn}: no mapping rule for provider "
        f"`{result.trace.provider}` proposes this role",
        result.trace,
    )


def browser_mapping(
    rules: MappingRules, identity: VerifiedIdentity, provider_name: str
) -> tuple[list[Candidate], Trace]:
    """Mapping candidates, then SAML Role-attribute roles not proposed already."""
    result = map_identity(rules, provider_name, claims_from_identity(identity))
    candidates = list(result.candidates)
    if identity.protocol == "saml":
        seen = {candidate.role_name for candidate in candidates}  # names are unique
        candidates += [c for c in role_attribute_candidates(identity) if c.role_name not in seen]
    return candidates, result.trace


def role_attribute_candidates(identity: VerifiedIdentity) -> list[Candidate]:
    """The `https://aws.amazon.com/SAML/Attributes/Role` pairs naming this provider."""
    attributes = federated_attributes(identity)
    session_name = attributes.session_name or _session_name(identity.subject)
    tags = tuple((tag.key, tag.value) for tag in attributes.tags)
    return [
        Candidate(
            role=role_arn,
            rule_id=ROLE_ATTRIBUTE_RULE,
            session_name=session_name,
            tags=tags,
            duration_seconds=attributes.session_duration,
            source_identity=attributes.source_identity,
        )
        for role_arn, provider_arn in sorted(attributes.role_pairs)
        if provider_arn == identity.provider_arn
    ]


def _session_name(subject: str) -> str:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-")
    cleaned = "".join(ch if ch in allowed else "-" for ch in subject)[:64]
    return cleaned if len(cleaned) >= 2 else f"{cleaned}--"[:2]
