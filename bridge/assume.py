"""Signed STS calls that issue credentials: AssumeRole, GetSessionToken, GetFederationToken.

The rules are STS's (contract §2): AssumeRole needs the role's trust policy to allow
the caller and, unless the trust policy names the caller itself, the caller's own
policies to allow `sts:AssumeRole` on the role; role chaining is capped at one hour
and carries transitive session tags and the source identity along; GetSessionToken
lasts 900 to 129600 s (root: up to 3600 s) and records MFA when a valid code is given;
GetFederationToken gives a federated user whose permissions are the intersection of
the calling user's policies and the session policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.authz.decide import Authorizer, RequestFacts
from bridge.authz.principal import Caller
from bridge.clock import Clock, Random
from bridge.credentials.issue import IssuedCredentials, SessionRequest, issue
from bridge.credentials.tokens import TokenSealer
from bridge.directory import ids
from bridge.directory.service import Directory
from bridge.errors import AccessDenied, InvalidAuthenticationCode, InvalidInput, NotFound
from bridge.policy import Principal
from bridge.sessions import MIN_DURATION, SessionOptions, check_duration, resolve_session_policies
from bridge.storage.interfaces import Role, Tag
from bridge.trust.check import TrustRequest, evaluate_trust
from bridge.trust.context import RequestKeys, request_context

CHAINED_MAXIMUM = 3600
SESSION_TOKEN_MAXIMUM = 129600
SESSION_TOKEN_DEFAULT = 43200
ROOT_SESSION_MAXIMUM = 3600


@dataclass(frozen=True)
class MFACode:
    serial_number: str
    token_code: str


@dataclass(frozen=True)
class AssumeRoleInput:
    options: SessionOptions
    external_id: str | None = None
    mfa: MFACode | None = None
    tags: tuple[Tag, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None


@dataclass(frozen=True)
class AssumedRole:
    credentials: IssuedCredentials
    assumed_role_id: str
    assumed_role_arn: str
    packed_policy_size: int
    source_identity: str | None


class SessionIssuer:
    def __init__(
        self,
        *,
        directory: Directory,
        authorizer: Authorizer,
        key_ring: TokenSealer,
        clock: Clock,
        rng: Random,
    ) -> None:
        self._directory = directory
        self._authorizer = authorizer
        self._key_ring = key_ring
        self._clock = clock
        self._rng = rng

    def assume_role(
        self, caller: Caller, request: AssumeRoleInput, facts: RequestFacts
    ) -> AssumedRole:
        role, role_arn = self._role(request.options.role_arn)
        mfa = self._check_mfa(caller, request.mfa)
        tags, transitive, source_identity = _inherited(caller, request)
        self._check_trust(caller, role, role_arn, request, facts, mfa=mfa, tags=tags)
        duration = _assume_duration(caller, request.options.duration_seconds, role)
        policies, packed = resolve_session_policies(self._directory, request.options)
        session_name = request.options.session_name or ""
        credentials = self._issue(
            SessionRequest(
                account_id=caller.account_id,
                kind="assumed-role",
                subject_id=role.role_id,
                subject_name=role.name,
                subject_arn=role_arn,
                session_name=session_name,
                duration_seconds=duration,
                source_identity=source_identity,
                session_tags=tags,
                transitive_tag_keys=transitive,
                role_tags=role.tags,
                session_policies=policies,
                mfa_present=mfa,
                role_chained=caller.session is not None,
            )
        )
        return AssumedRole(
            credentials,
            f"{role.role_id}:{session_name}",
            f"arn:aws:sts::{caller.account_id}:assumed-role/{role.name}/{session_name}",
            packed,
            source_identity,
        )

    def session_token(
        self, caller: Caller, duration_seconds: int | None, mfa_code: MFACode | None
    ) -> IssuedCredentials:
        maximum = ROOT_SESSION_MAXIMUM if caller.is_root else SESSION_TOKEN_MAXIMUM
        default = ROOT_SESSION_MAXIMUM if caller.is_root else SESSION_TOKEN_DEFAULT
        duration = _within(duration_seconds, default, maximum)
        mfa = self._check_mfa(caller, mfa_code)
        subject = caller.account_id if caller.is_root else caller.principal_id
        return self._issue(
            SessionRequest(
                account_id=caller.account_id,
                kind="user-session",
                subject_id=subject,
                subject_name=caller.name or caller.account_id,
                subject_arn=caller.arn,
                session_name=caller.name or caller.account_id,
                duration_seconds=duration,
                mfa_present=mfa,
            )
        )

    def federation_token(
        self, caller: Caller, name: str, options: SessionOptions, tags: tuple[Tag, ...]
    ) -> tuple[IssuedCredentials, int]:
        maximum = ROOT_SESSION_MAXIMUM if caller.is_root else SESSION_TOKEN_MAXIMUM
        default = ROOT_SESSION_MAXIMUM if caller.is_root else SESSION_TOKEN_DEFAULT
        duration = _within(options.duration_seconds, default, maximum)
        policies, packed = resolve_session_policies(self._directory, options)
        credentials = self._issue(
            SessionRequest(
                account_id=caller.account_id,
                kind="federated-user",
                subject_id=caller.principal_id,
                subject_name=caller.name or caller.account_id,
                subject_arn=caller.arn,
                session_name=name,
                duration_seconds=duration,
                session_tags=tags,
                session_policies=policies,
            )
        )
        return credentials, packed

    def _issue(self, request: SessionRequest) -> IssuedCredentials:
        return issue(request, clock=self._clock, rng=self._rng, key_ring=self._key_ring)

    def _role(self, role_arn: str) -> tuple[Role, str]:
        parsed = ids.parse_arn(role_arn, "RoleArn")
        refused = AccessDenied(f"Not authorized to perform sts:AssumeRole on {role_arn}")
        if parsed.account_id != self._directory.account_id or parsed.kind != "role":
            raise refused
        try:
            role = self._directory.roles.get(parsed.name)
        except NotFound:
            raise refused from None
        return role, self._directory.roles.arn(role)

    def _check_mfa(self, caller: Caller, code: MFACode | None) -> bool:
        """A valid, unused TOTP code of a device assigned to the caller proves MFA."""
        if code is None:
            return bool(caller.session and caller.session.mfa_present)
        owner = None if caller.is_root else caller.name
        devices = {device.serial_number for device in self._directory.mfa.list(owner)}
        if code.serial_number not in devices:
            raise AccessDenied("MultiFactorAuthentication failed: the device is not the caller's")
        try:
            self._directory.mfa.verify(code.serial_number, code.token_code)
        except InvalidAuthenticationCode:
            raise AccessDenied(
                "MultiFactorAuthentication failed with invalid MFA one time pass code"
            ) from None
        return True

    def _check_trust(
        self,
        caller: Caller,
        role: Role,
        role_arn: str,
        request: AssumeRoleInput,
        facts: RequestFacts,
        *,
        mfa: bool,
        tags: tuple[Tag, ...],
    ) -> None:
        keys = RequestKeys(
            now=facts.now,
            session_name=request.options.session_name,
            duration_seconds=request.options.duration_seconds,
            source_identity=request.source_identity,
            external_id=request.external_id,
            source_ip=facts.source_ip,
            tags=[(t.key, t.value) for t in request.tags],
            transitive_tag_keys=request.transitive_tag_keys,
            mfa_present=mfa,
            principal_tags={tag.key: tag.value for tag in caller.tags},
        )
        context = caller_context(caller, keys)
        trust = TrustRequest(
            "sts:AssumeRole",
            Principal(arn=caller.arn, account=caller.account_id),
            context,
            wants_tags=bool(tags),
            wants_source_identity=request.source_identity is not None,
        )
        decision = evaluate_trust(role, role_arn, trust)
        if not decision.allowed:
            raise _not_authorized(caller, decision.refused_actions()[0], role_arn)
        if not self._named_in_trust(caller, role, role_arn, trust):
            self._require_identity_allow(caller, role_arn, facts)

    def _named_in_trust(
        self, caller: Caller, role: Role, role_arn: str, trust: TrustRequest
    ) -> bool:
        """Does the trust policy name the caller itself (not just its account)? An empty
        account keeps account-wide principals (`<account>` or `...:root`) from matching."""
        named = TrustRequest(trust.action, Principal(arn=caller.arn, account=""), trust.context)
        return evaluate_trust(role, role_arn, named).allowed

    def _require_identity_allow(self, caller: Caller, role_arn: str, facts: RequestFacts) -> None:
        decision = self._authorizer.decide(caller, "sts:AssumeRole", role_arn, facts)
        if not decision.allowed:
            raise _not_authorized(caller, "sts:AssumeRole", role_arn)


def caller_context(caller: Caller, keys: RequestKeys) -> dict[str, object]:
    """The request's condition keys for a trust policy judging `caller` (AssumeRole, and the
    portal listing the roles a user may assume)."""
    context: dict[str, object] = {
        **request_context(keys),
        "aws:PrincipalArn": caller.arn,
        "aws:userid": caller.principal_id,
    }
    if caller.name:
        context["aws:username"] = caller.name
    return context


def _inherited(
    caller: Caller, request: AssumeRoleInput
) -> tuple[tuple[Tag, ...], tuple[str, ...], str | None]:
    """Role chaining keeps the transitive tags and the source identity (contract §2)."""
    session = caller.session
    if session is None or session.kind != "assumed-role":
        return request.tags, request.transitive_tag_keys, request.source_identity
    carried = {key.lower() for key in session.transitive_tag_keys}
    inherited = tuple(tag for tag in session.session_tags if tag.key.lower() in carried)
    clash = {tag.key.lower() for tag in request.tags} & carried
    if clash:
        raise InvalidInput("Tags", f"tags {sorted(clash)} collide with transitive session tags")
    if session.source_identity and request.source_identity not in (None, session.source_identity):
        raise InvalidInput("SourceIdentity", "a chained session keeps its source identity")
    keys = tuple(dict.fromkeys((*session.transitive_tag_keys, *request.transitive_tag_keys)))
    return inherited + request.tags, keys, session.source_identity or request.source_identity


def _assume_duration(caller: Caller, requested: int | None, role: Role) -> int:
    if caller.session is not None and caller.session.kind == "assumed-role":
        if requested is not None and requested > CHAINED_MAXIMUM:
            raise InvalidInput(
                "DurationSeconds",
                f"`{requested}` exceeds the 1 hour limit for sessions of role chaining",
            )
        return check_duration(requested, min(role.max_session_duration, CHAINED_MAXIMUM))
    return check_duration(requested, role.max_session_duration)


def _within(requested: int | None, default: int, maximum: int) -> int:
    if requested is None:
        return default
    if not MIN_DURATION <= requested <= maximum:
        raise InvalidInput(
            "DurationSeconds", f"`{requested}` must be between {MIN_DURATION} and {maximum}"
        )
    return requested


def _not_authorized(caller: Caller, action: str, role_arn: str) -> AccessDenied:
    return AccessDenied(
        f"User: {caller.arn} is not authorized to perform: {action} on resource: {role_arn}"
    )
