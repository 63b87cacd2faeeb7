"""Mapping and trust run offline on saved claims, for `bridge mapping test`.

The provider is resolved as the sign-in would: a configured login provider of that
name, else the IAM SAML provider of that name, else the IAM OIDC provider whose issuer
is the claims' `iss`. An identity is built from the claims for that protocol and every
candidate role's trust policy is evaluated with the same federation condition keys as
the STS path (`saml:*` or `<issuer>:*`, request tags, session name). No signature is
checked: the claims are taken as already verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bridge.directory import ids
from bridge.errors import InvalidInput, NotFound
from bridge.mapping.claims import Claims
from bridge.mapping.engine import Candidate, MappingResult, map_identity
from bridge.mapping.rules import MappingRules
from bridge.mapping.trace import Trace
from bridge.policy import Decision, Principal
from bridge.services import Services
from bridge.storage.interfaces import Role
from bridge.trust.check import TrustDecision, TrustRequest, evaluate_trust
from bridge.trust.context import RequestKeys, oidc_context, request_context, saml_context
from bridge.verify.identity import Protocol, VerifiedIdentity

ACTIONS = {"saml": "sts:AssumeRoleWithSAML", "oidc": "sts:AssumeRoleWithWebIdentity"}


@dataclass(frozen=True)
class ResolvedProvider:
    protocol: Protocol  # "saml" | "oidc"
    arn: str  # the IAM SAML or OIDC provider
    name: str  # the IAM SAML provider name, or the OIDC issuer
    audience: str  # saml:aud (this bridge's ACS URL) or the OIDC client id
    groups_claim: str = "groups"


@dataclass(frozen=True)
class OfflineResult:
    provider: ResolvedProvider
    mapping: MappingResult

    @property
    def trace(self) -> Trace:
        return self.mapping.trace

    @property
    def granted(self) -> tuple[str, ...]:
        return self.mapping.trace.accepted


def run_offline(
    services: Services, rules: MappingRules, name: str, claims: Claims
) -> OfflineResult:
    """Map `claims` signed in through provider `name`, then check each candidate's trust."""
    provider = resolve_provider(services, name, claims)
    if provider.groups_claim != "groups":
        claims = claims.with_groups(claims.get(provider.groups_claim))
    result = map_identity(rules, name, claims)
    identity = offline_identity(provider, claims, services)
    for candidate in result.candidates:
        arn, accepted, why = check_candidate(services, provider, identity, candidate)
        result.trace.record_trust(arn, accepted, why)
    return OfflineResult(provider, result)


def resolve_provider(services: Services, name: str, claims: Claims) -> ResolvedProvider:
    """Raise `InvalidInput` naming `--provider` when no provider fits."""
    login = services.settings.login_providers.get(name)
    if login is not None and login.protocol == "saml":
        return _saml_provider(services, login.saml_provider, f"login provider `{name}`")
    if login is not None and login.protocol == "oidc":
        return _oidc_provider(services, login.issuer, login.client_id, login.groups_claim)
    account = services.directory.account_id
    try:
        services.directory.saml_providers.get(ids.saml_provider_arn(account, name))
    except NotFound:
        pass
    else:
        return _saml_provider(services, name, f"provider `{name}`")
    issuer = claims.issuer
    if not issuer:
        raise InvalidInput(
            "--provider",
            f"`{name}` is neither a login provider nor an IAM SAML provider, and the claims "
            "have no `iss` naming an IAM OIDC provider",
        )
    audience = claims.get("aud")
    return _oidc_provider(services, issuer, audience[0] if audience else "", "groups")


def _saml_provider(services: Services, name: str, what: str) -> ResolvedProvider:
    arn = ids.saml_provider_arn(services.directory.account_id, name)
    try:
        services.directory.saml_providers.get(arn)
    except NotFound:
        raise InvalidInput("--provider", f"{what}: no IAM SAML provider `{arn}`") from None
    return ResolvedProvider("saml", arn, name, f"{services.base_url}/saml/acs")


def _oidc_provider(
    services: Services, issuer: str, audience: str, groups_claim: str
) -> ResolvedProvider:
    arn = ids.oidc_provider_arn(services.directory.account_id, issuer)
    try:
        services.directory.oidc_providers.get(arn)
    except NotFound:
        raise InvalidInput(
            "--provider", f"no IAM OIDC provider is registered for the issuer `{issuer}`"
        ) from None
    return ResolvedProvider("oidc", arn, issuer, audience, groups_claim)


def offline_identity(
    provider: ResolvedProvider, claims: Claims, services: Services
) -> VerifiedIdentity:
    """The identity the verifier would have handed over for these claims."""
    now = services.clock.now()
    amr = claims.get("amr")
    return VerifiedIdentity(
        protocol=provider.protocol,
        provider_arn=provider.arn,
        issuer=claims.issuer or provider.name,
        subject=claims.subject,
        audience=provider.audience,
        expires_at=now + timedelta(hours=1),
        message_id="offline",
        mfa="mfa" in amr,
        amr=amr,
        groups=claims.groups,
        attributes={k: v for k, v in claims.values.items() if k not in {"sub", "iss"}},
    )


def check_candidate(
    services: Services,
    provider: ResolvedProvider,
    identity: VerifiedIdentity,
    candidate: Candidate,
) -> tuple[str, bool, str]:
    """(role ARN, accepted, why) for one candidate."""
    account = services.directory.account_id
    arn = candidate.role_arn(account)
    role = _role(services, candidate, account)
    if role is None:
        return arn, False, f"the role `{candidate.role}` does not exist in account {account}"
    arn = services.directory.roles.arn(role)
    decision = evaluate_trust(role, arn, _request(services, provider, identity, candidate))
    return arn, decision.allowed, _why(decision)


def _role(services: Services, candidate: Candidate, account: str) -> Role | None:
    if candidate.role.startswith("arn:"):
        parsed = ids.parse_arn(candidate.role, "role")
        if parsed.account_id != account or parsed.kind != "role":
            return None
    try:
        role = services.directory.roles.get(candidate.role_name)
    except NotFound:
        return None
    if candidate.role.startswith("arn:") and services.directory.roles.arn(role) != candidate.role:
        return None
    return role


def _request(
    services: Services,
    provider: ResolvedProvider,
    identity: VerifiedIdentity,
    candidate: Candidate,
) -> TrustRequest:
    keys = RequestKeys(
        now=services.clock.now(),
        session_name=candidate.session_name,
        duration_seconds=candidate.duration_seconds,
        source_identity=candidate.source_identity,
        tags=list(candidate.tags),
        mfa_present=identity.mfa,
    )
    if provider.protocol == "saml":
        federation = saml_context(identity, provider.name, services.directory.account_id)
    else:
        federation = oidc_context(identity)
    return TrustRequest(
        ACTIONS[provider.protocol],
        Principal(arn=provider.arn, federated=provider.arn),
        {**request_context(keys), **federation},
        wants_tags=bool(candidate.tags),
        wants_source_identity=candidate.source_identity is not None,
    )


def _why(decision: TrustDecision) -> str:
    if decision.allowed:
        return "the trust policy allows " + ", ".join(decision.decisions)
    return "; ".join(
        f"the trust policy refuses {action}: {_decision_text(result)}"
        for action, result in decision.decisions.items()
        if not result.allowed
    )


def _decision_text(decision: Decision) -> str:
    if decision.effect == "explicitDeny":
        sids = ", ".join(f"`{m.sid or m.index}`" for m in decision.matched)
        return f"denied by statement {sids}"
    text = "no statement allows it"
    if decision.missing_context:
        text += " (missing context keys: " + ", ".join(decision.missing_context) + ")"
    return text
