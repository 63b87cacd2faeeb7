"""Verified identity → trust → credentials: the one path every federated sign-in takes.

`AssumeRoleWithSAML`, `AssumeRoleWithWebIdentity` (and later the browser ACS and
OIDC callback) all call `Federation`, so they share the same checks and audit events:
verify the assertion or token (signature first), read the role request it carries,
check the role's trust policy with the federation condition keys, enforce one-time use
of a SAML assertion per role, apply the duration rules, and issue credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.clock import Clock, Random
from bridge.credentials.issue import IssuedCredentials, SessionRequest, issue
from bridge.credentials.tokens import TokenSealer
from bridge.directory import ids
from bridge.directory.service import Directory
from bridge.errors import AccessDenied, ClientFault, NotFound
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
from bridge.trust.check import TrustRequest, require_trust
from bridge.trust.context import RequestKeys, oidc_context, request_context, saml_context
from bridge.verify import oidc
from bridge.verify.errors import InvalidIdentityToken
from bridge.verify.identity import VerifiedIdentity
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


@dataclass(frozen=True)
class _Grant:
    """What a verified identity asks for, before trust and duration are checked."""

    role: Role
    role_arn: str
    session_name: str
    tags: tuple[Tag, ...]
    transitive_tag_keys: tuple[str, ...]
    source_identity: str | None
    duration_cap: int | None  # SAML SessionDuration attribute


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
        self._trust(grant, identity, "sts:AssumeRoleWithSAML", context, options)
        self._use_once(identity, grant.role_arn)
        return self._issue(grant, identity, options)

    def with_web_identity(self, token: str, options: SessionOptions) -> FederatedSession:
        """Web-identity tokens may be presented again until they expire, as STS allows
        (botocore's provider re-reads the same token file): no one-time use here."""
        if not options.session_name:
            raise ClientFault("RoleSessionName is required for AssumeRoleWithWebIdentity")
        provider = self._oidc_provider(_unverified_issuer(token))
        identity = self._oidc.verify(token, provider)
        grant = self._oidc_grant(identity, options)
        self._trust(
            grant, identity, "sts:AssumeRoleWithWebIdentity", oidc_context(identity), options
        )
        return self._issue(grant, identity, options)

    def _saml_provider(self, principal_arn: str) -> SAMLProvider:
        try:
            return self._directory.saml_providers.get(principal_arn)
        except NotFound:
            raise InvalidIdentityToken(
                f"the SAML provider `{principal_arn}` is not registered in this account"
            ) from None

    def _oidc_provider(self, issuer: str) -> OIDCProvider:
        try:
            return self._directory.oidc_providers.get(
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
            role = self._directory.roles.get(parsed.name)
        except NotFound:
            raise AccessDenied(f"Not authorized to perform {action} on {role_arn}") from None
        return role, self._directory.roles.arn(role)

    def _saml_grant(self, identity: VerifiedIdentity, principal_arn: str, role_arn: str) -> _Grant:
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
        return _Grant(
            role,
            arn,
            attributes.session_name,
            attributes.tags,
            attributes.transitive_tag_keys,
            attributes.source_identity,
            attributes.session_duration,
        )

    def _oidc_grant(self, identity: VerifiedIdentity, options: SessionOptions) -> _Grant:
        role, arn = self._role(options.role_arn, "sts:AssumeRoleWithWebIdentity")
        tags = tuple(Tag(key, value) for key, value in oidc.session_tags(identity))
        return _Grant(
            role,
            arn,
            options.session_name or "",
            tags,
            oidc.transitive_tag_keys(identity),
            oidc.source_identity(identity),
            None,
        )

    def _trust(
        self,
        grant: _Grant,
        identity: VerifiedIdentity,
        action: str,
        federation_keys: dict[str, object],
        options: SessionOptions,
    ) -> None:
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
        request = TrustRequest(
            action,
            principal,
            context,
            wants_tags=bool(grant.tags),
            wants_source_identity=grant.source_identity is not None,
        )
        require_trust(grant.role, grant.role_arn, request)

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
        self, grant: _Grant, identity: VerifiedIdentity, options: SessionOptions
    ) -> FederatedSession:
        now = self._clock.now()
        duration = check_duration(
            options.duration_seconds,
            grant.role.max_session_duration,
            cap=grant.duration_cap,
            not_after=_seconds_until(identity.session_not_on_or_after, now),
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


def _seconds_until(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else int((moment - now).total_seconds())


def _unverified_issuer(token: str) -> str:
    """The `iss` claim, read before verification only to choose the provider record."""
    claims = oidc.decode_segment(token.strip(), 1, "payload")
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidIdentityToken("the token has no `iss` claim naming its provider")
    return issuer
