"""Verified identity → mapping → trust → credentials: the one path of every federated sign-in.

`AssumeRoleWithSAML`, `AssumeRoleWithWebIdentity`, the browser ACS and OIDC callback
(`browser_candidates`) and the portal (`browser_session`) all call `Federation`, so they
share the same checks and audit events: verify the assertion or token (signature
first), read the role request it carries, ask the mapping rules (when the provider has
any, the role must be a candidate; `federate_mapping.py`), check the role's trust policy
with the federation condition keys, enforce one-time use, apply the duration rules, and
issue credentials. The mapping trace, with each trust outcome, goes to the audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bridge.clock import Clock, Random
from bridge.credentials.issue import IssuedCredentials, SessionRequest, issue
from bridge.credentials.tokens import TokenSealer
from bridge.directory import ids
from bridge.directory.service import Directory
from bridge.errors import AccessDenied, ClientFault, NotFound
from bridge.federate_mapping import (
    LoginSettings,
    MappingRefused,
    RoleChoice,
    browser_mapping,
    require_candidate,
    sts_mapping,
)
from bridge.federate_parts import Grant, assume_action, grant_of, seconds_until, unverified_issuer
from bridge.mapping.engine import Candidate, MappingResult
from bridge.mapping.holder import RulesHolder
from bridge.mapping.trace import Trace
from bridge.metadata_refresh import MetadataRefresher
from bridge.policy import Principal
from bridge.saml_settings import SAMLProviderSettings, provider_settings
from bridge.sessions import (
    SessionOptions,
    check_duration,
    federated_attributes,
    resolve_session_policies,
)
from bridge.storage.interfaces import OIDCProvider, OneTimeUse, Role, SAMLProvider, Tag
from bridge.trust.check import TrustRequest, evaluate_trust, require_trust
from bridge.trust.context import RequestKeys, oidc_context, request_context, saml_context
from bridge.verify import oidc
from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.identity import VerifiedIdentity, identity_from_json
from bridge.verify.oidc import OIDCVerifier
from bridge.verify.saml import SAMLVerifier

REPLAY_GUARD = timedelta(minutes=15)  # longer than any clock skew a provider may set (10 min)


class IdPRejectedClaim(ClientFault):
    """The identity is genuine but what it claims cannot be honoured (STS `IDPRejectedClaim`)."""


@dataclass(frozen=True)
class FederatedSession:
    credentials: IssuedCredentials
    identity: VerifiedIdentity
    role_arn: str
    assumed_role_id: str
    assumed_role_arn: str
    packed_policy_size: int
    source_identity: str | None
    trace: Trace | None = None  # the mapping decision trace, for the audit event


class Federation:
    def __init__(
        self,
        *,
        directory: Directory,
        key_ring: TokenSealer,
        one_time: OneTimeUse,
        clock: Clock,
        rng: Random,
        saml: SAMLVerifier,
        oidc_verifier: OIDCVerifier,
        saml_providers: Mapping[str, SAMLProviderSettings] | None = None,
        metadata_refresher: MetadataRefresher | None = None,
        mapping: RulesHolder | None = None,
        login_providers: LoginSettings | None = None,
    ) -> None:
        self._directory = directory
        self._key_ring = key_ring
        self._one_time = one_time
        self._clock = clock
        self._rng = rng
        self._saml = saml
        self._oidc = oidc_verifier
        self._saml_settings = dict(saml_providers or {})
        self._refresher = metadata_refresher
        self._mapping = mapping or RulesHolder()
        self._login = dict(login_providers or {})

    @property
    def saml_verifier(self) -> SAMLVerifier:
        return self._saml

    @property
    def oidc_verifier(self) -> OIDCVerifier:
        return self._oidc

    def saml_provider_named(self, name: str) -> SAMLProvider:
        """The IAM SAML provider `name` of this account (`InvalidIdentityToken` if none)."""
        return self._saml_provider(ids.saml_provider_arn(self.account_id, name))

    def oidc_provider_for(self, issuer: str) -> OIDCProvider:
        """The IAM OIDC provider of `issuer` (`InvalidIdentityToken` if none)."""
        return self._oidc_provider(issuer)

    @property
    def account_id(self) -> str:
        return self._directory.account_id

    def with_saml(
        self, assertion: str, principal_arn: str, options: SessionOptions
    ) -> FederatedSession:
        if self._refresher is not None:
            self._refresher.refresh_due()
        provider = self._saml_provider(principal_arn)
        rules = provider_settings(self._saml_settings, provider.name)
        identity = self._saml.verify(
            assertion, provider, clock_skew=rules.clock_skew, allow_sha1=rules.allow_sha1
        )
        grant = self._saml_grant(identity, principal_arn, options.role_arn)
        context = saml_context(identity, provider.name, self.account_id)
        action = "sts:AssumeRoleWithSAML"
        trace = self._sts_trace(identity, grant.role_arn, action)
        self._traced_trust(grant, identity, action, context, options, trace)
        self._use_once(identity, grant.role_arn)
        return replace(self._issue(grant, identity, options), trace=trace)

    def with_web_identity(self, token: str, options: SessionOptions) -> FederatedSession:
        """Web-identity tokens may be presented again until they expire, as STS allows
        (botocore's provider re-reads the same token file): no one-time use here."""
        if not options.session_name:
            raise ClientFault("RoleSessionName is required for AssumeRoleWithWebIdentity")
        provider = self._oidc_provider(unverified_issuer(token))
        identity = self._oidc.verify(token, provider)
        grant = self._oidc_grant(identity, options)
        action = "sts:AssumeRoleWithWebIdentity"
        trace = self._sts_trace(identity, grant.role_arn, action)
        self._traced_trust(grant, identity, action, oidc_context(identity), options, trace)
        return replace(self._issue(grant, identity, options), trace=trace)

    # --- mapping -----------------------------------------------------------------------

    def browser_candidates(
        self, identity: VerifiedIdentity, provider_name: str
    ) -> tuple[list[RoleChoice], Trace]:
        """The roles the portal may offer: mapping candidates (and, for SAML, the Role
        attribute's pairs) each accepted by its trust policy; the trace records why."""
        candidates, trace = browser_mapping(self._mapping.rules, identity, provider_name)
        choices = []
        for candidate in candidates:
            choice, why = self._check_candidate(identity, candidate)
            trace.record_trust(candidate.role_arn(self.account_id), choice is not None, why)
            if choice is not None:
                choices.append(choice)
        return choices, trace

    def browser_session(
        self,
        identity: VerifiedIdentity | Mapping[str, Any],
        provider_name: str | None,
        role_arn: str,
        options: SessionOptions | None = None,
    ) -> FederatedSession:
        """Credentials for a role chosen in the portal; mapping and trust are checked
        again (the sign-in's one-time use was enforced when it was completed).
        `identity` may be the JSON form kept in the browser session."""
        if not isinstance(identity, VerifiedIdentity):
            identity = identity_from_json(identity)
        if not provider_name:
            raise AccessDenied("the sign-in names no login provider")
        choices, trace = self.browser_candidates(identity, provider_name)
        action = assume_action(identity)
        chosen = next((choice for choice in choices if choice.role_arn == role_arn), None)
        if chosen is None:
            raise MappingRefused(
                f"Not authorized to perform {action} on {role_arn}: no mapping rule proposes "
                "it for this sign-in, or its trust policy refuses it",
                trace,
            )
        role, arn = self._role(role_arn, action)
        grant = grant_of(role, arn, chosen)
        given = options or SessionOptions(role_arn=arn)
        session_options = replace(
            given,
            role_arn=arn,
            session_name=chosen.session_name,
            duration_seconds=given.duration_seconds or chosen.duration_seconds,
        )
        self._trust(grant, identity, action, self._context(identity), session_options)
        return replace(self._issue(grant, identity, session_options), trace=trace)

    def use_browser_sign_in(self, identity: VerifiedIdentity) -> None:
        """A browser sign-in is one-time: the same assertion or ID token never signs in
        twice (keyed by the Assertion ID or the token's `jti` / digest)."""
        key = f"browser-sign-in:{identity.protocol}:{identity.message_id}"
        keep_until = max(identity.expires_at, self._clock.now()) + REPLAY_GUARD
        if not self._one_time.use_once(key, keep_until):
            what = "SAML assertion" if identity.protocol == "saml" else "ID token"
            raise InvalidIdentityToken(
                f"this {what} was already used to sign in (`{identity.message_id[:80]}`)"
            )

    def _sts_trace(self, identity: VerifiedIdentity, role_arn: str, action: str) -> Trace | None:
        result: MappingResult | None = sts_mapping(self._mapping.rules, identity, self._login)
        if result is None:
            return None
        require_candidate(result, role_arn, self.account_id, action)
        return result.trace

    def _check_candidate(
        self, identity: VerifiedIdentity, candidate: Candidate
    ) -> tuple[RoleChoice | None, str]:
        action = assume_action(identity)
        try:
            role, arn = self._role(candidate.role_arn(self.account_id), action)
        except ClientFault:
            return None, "no such role in this account"
        grant = grant_of(role, arn, candidate)
        options = SessionOptions(role_arn=arn, duration_seconds=candidate.duration_seconds)
        request = self._trust_request(grant, identity, action, self._context(identity), options)
        decision = evaluate_trust(role, arn, request)
        if not decision.allowed:
            refused = ", ".join(decision.refused_actions())
            return None, f"the trust policy does not allow {refused}"
        choice = RoleChoice(
            arn,
            role.description,
            candidate.session_name,
            candidate.tags,
            candidate.duration_seconds,
            candidate.rule_id,
            candidate.source_identity,
        )
        return choice, f"the trust policy allows {action}"

    def _context(self, identity: VerifiedIdentity) -> dict[str, object]:
        if identity.protocol == "saml":
            name = identity.provider_arn.rsplit("saml-provider/", 1)[-1]
            return saml_context(identity, name, self.account_id)
        return oidc_context(identity)

    # provider and role reads: the directory's read cache (`bridge.directory.cached`)
    def _saml_provider(self, principal_arn: str) -> SAMLProvider:
        try:
            return self._directory.cached.saml_provider(principal_arn)
        except NotFound:
            raise InvalidIdentityToken(
                f"the SAML provider `{principal_arn}` is not registered in this account"
            ) from None

    def _oidc_provider(self, issuer: str) -> OIDCProvider:
        try:
            return self._directory.cached.oidc_provider(
                ids.oidc_provider_arn(self.account_id, issuer)
            )
        except NotFound:
            raise InvalidIdentityToken(
                f"no OpenID Connect provider is registered for the issuer `{issuer}`"
            ) from None

    def _role(self, role_arn: str, action: str) -> tuple[Role, str]:
        parsed = ids.parse_arn(role_arn, "RoleArn")
        if parsed.account_id != self.account_id or parsed.kind != "role":
            raise AccessDenied(f"Not authorized to perform {action} on {role_arn}")
        try:
            role = self._directory.cached.role_named(parsed.name)
        except NotFound:
            raise AccessDenied(f"Not authorized to perform {action} on {role_arn}") from None
        return role, self._directory.roles.arn(role)

    def _saml_grant(self, identity: VerifiedIdentity, principal_arn: str, role_arn: str) -> Grant:
        attributes = federated_attributes(identity)
        if (role_arn, principal_arn) not in attributes.role_pairs:
            raise AccessDenied(
                f"Not authorized to perform sts:AssumeRoleWithSAML: the assertion's Role "
                f"attribute does not name `{role_arn}` with provider `{principal_arn}`"
            )
        if attributes.session_name is None:
            raise InvalidIdentityToken(
                "the assertion has no RoleSessionName attribute "
                "(https://aws.amazon.com/SAML/Attributes/RoleSessionName)"
            )
        role, arn = self._role(role_arn, "sts:AssumeRoleWithSAML")
        return Grant(
            role,
            arn,
            attributes.session_name,
            attributes.tags,
            attributes.transitive_tag_keys,
            attributes.source_identity,
            attributes.session_duration,
        )

    def _oidc_grant(self, identity: VerifiedIdentity, options: SessionOptions) -> Grant:
        role, arn = self._role(options.role_arn, "sts:AssumeRoleWithWebIdentity")
        tags = tuple(Tag(key, value) for key, value in oidc.session_tags(identity))
        return Grant(
            role,
            arn,
            options.session_name or "",
            tags,
            oidc.transitive_tag_keys(identity),
            oidc.source_identity(identity),
            None,
        )

    def _traced_trust(
        self,
        grant: Grant,
        identity: VerifiedIdentity,
        action: str,
        federation_keys: dict[str, object],
        options: SessionOptions,
        trace: Trace | None,
    ) -> None:
        """`_trust`, noting the outcome in the trace (and carrying it on a refusal)."""
        try:
            self._trust(grant, identity, action, federation_keys, options)
        except AccessDenied as exc:
            if trace is None:
                raise
            trace.record_trust(grant.role_arn, False, exc.message)
            raise MappingRefused(exc.message, trace) from None
        if trace is not None:
            trace.record_trust(grant.role_arn, True, f"the trust policy allows {action}")

    def _trust(
        self,
        grant: Grant,
        identity: VerifiedIdentity,
        action: str,
        federation_keys: dict[str, object],
        options: SessionOptions,
    ) -> None:
        request = self._trust_request(grant, identity, action, federation_keys, options)
        require_trust(grant.role, grant.role_arn, request)

    def _trust_request(
        self,
        grant: Grant,
        identity: VerifiedIdentity,
        action: str,
        federation_keys: dict[str, object],
        options: SessionOptions,
    ) -> TrustRequest:
        keys = RequestKeys(
            now=self._clock.now(),
            session_name=grant.session_name,
            duration_seconds=options.duration_seconds,
            source_identity=grant.source_identity,
            source_ip=options.source_ip,
            tags=[(tag.key, tag.value) for tag in grant.tags],
            transitive_tag_keys=grant.transitive_tag_keys,
            mfa_present=identity.mfa,
        )
        context = {**request_context(keys), **federation_keys}
        principal = Principal(arn=identity.provider_arn, federated=identity.provider_arn)
        return TrustRequest(
            action,
            principal,
            context,
            wants_tags=bool(grant.tags),
            wants_source_identity=grant.source_identity is not None,
        )

    def _use_once(self, identity: VerifiedIdentity, role_arn: str) -> None:
        """One assertion may open several roles, never the same role twice (keyed by the
        Assertion ID, so re-wrapping it in a new Response is still a replay).

        The key must outlive every moment the verifier could still accept the assertion:
        past NotOnOrAfter by up to the provider's clock skew. It is kept until
        `REPLAY_GUARD` after the later of NotOnOrAfter and now, never less."""
        key = f"saml-assertion:{identity.message_id}:{role_arn}"
        keep_until = max(identity.expires_at, self._clock.now()) + REPLAY_GUARD
        if not self._one_time.use_once(key, keep_until):
            raise InvalidIdentityToken(
                f"the SAML assertion `{identity.message_id}` was already used for `{role_arn}`"
            )

    def _issue(
        self, grant: Grant, identity: VerifiedIdentity, options: SessionOptions
    ) -> FederatedSession:
        now = self._clock.now()
        duration = check_duration(
            options.duration_seconds,
            grant.role.max_session_duration,
            cap=grant.duration_cap,
            not_after=seconds_until(identity.session_not_on_or_after, now),
        )
        policies, packed = resolve_session_policies(self._directory, options)
        request = SessionRequest(
            account_id=self.account_id,
            kind="assumed-role",
            subject_id=grant.role.role_id,
            subject_name=grant.role.name,
            subject_arn=grant.role_arn,
            session_name=grant.session_name,
            duration_seconds=duration,
            source_identity=grant.source_identity,
            session_tags=grant.tags,
            transitive_tag_keys=grant.transitive_tag_keys,
            role_tags=grant.role.tags,
            session_policies=policies,
            mfa_present=identity.mfa,
        )
        credentials = issue(request, clock=self._clock, rng=self._rng, key_ring=self._key_ring)
        session_arn = (
            f"arn:aws:sts::{self.account_id}:assumed-role/{grant.role.name}/{grant.session_name}"
        )
        return FederatedSession(
            credentials,
            identity,
            grant.role_arn,
            f"{grant.role.role_id}:{grant.session_name}",
            session_arn,
            packed,
            grant.source_identity,
        )
