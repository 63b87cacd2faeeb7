"""Answer `/v1/authorize`: may this caller of an internal service do these actions?

The internal service passes on what its caller presented (a SigV4-signed request, or
a bearer session token) and the questions. The caller is authenticated as the Query
API authenticates (`Authenticator`; a signature scoped to any service name), each
question is decided by the policy engine (`Authorizer`), every decision becomes one
audit event (`Authorize`, one per action and resource), and last-accessed data is
updated for every decision on an authenticated caller (`LastAccess`).

A caller that cannot be authenticated gets `implicitDeny` for every question with the
reason: authentication failures are answers here, not errors. The condition keys the
bridge derives from the caller (`aws:PrincipalArn`, `aws:PrincipalTag/…`, session
keys) always come from the caller and cannot be supplied (`BRIDGE_KEYS`); request keys
(`aws:SourceIp`, `aws:SecureTransport`, `aws:UserAgent`, service keys) come from the
service, which saw the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bridge.audit import AuditEvent, AuditLog, redact
from bridge.authz.authenticate import Authenticator
from bridge.authz.decide import NOTHING_ALLOWED, Authorizer, RequestFacts
from bridge.authz.last_access import LastAccess
from bridge.authz.principal import Caller
from bridge.authz.sigv4 import ANY_SERVICE, SignedRequest
from bridge.clock import Clock
from bridge.errors import AuthenticationFailed
from bridge.policy import Decision

EVENT_NAME = "Authorize"
BRIDGE_KEYS = (
    "aws:principal",  # aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalTag/…, …
    "aws:userid",
    "aws:username",
    "aws:tokenissuetime",
    "aws:multifactorauth",
    "aws:sourceidentity",
    "aws:currenttime",
    "aws:epochtime",
    "aws:viaawsservice",
    "aws:federatedprovider",
    "aws:requestedregion",
)
"""Lower-case prefixes of the condition keys the bridge sets itself."""


def is_bridge_key(key: str) -> bool:
    return key.lower().startswith(BRIDGE_KEYS)


@dataclass(frozen=True)
class SigV4Subject:
    """The caller's request as the service received it; the body stands as its hash."""

    request: SignedRequest


@dataclass(frozen=True)
class BearerSubject:
    token: str = field(repr=False)


Subject = SigV4Subject | BearerSubject


@dataclass(frozen=True)
class Question:
    action: str
    resource: str
    context: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    question: Question
    decision: Decision


@dataclass(frozen=True)
class Judgement:
    """`caller` is None exactly when `failure` says why it could not be authenticated."""

    caller: Caller | None
    failure: AuthenticationFailed | None
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True)
class Asker:
    """The internal service asking, already authenticated and allowed `bridge:Authorize`."""

    arn: str
    request_id: str


class Judge:
    def __init__(
        self,
        authenticator: Authenticator,
        authorizer: Authorizer,
        *,
        audit: AuditLog,
        last_access: LastAccess,
        clock: Clock,
    ) -> None:
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._audit = audit
        self._last_access = last_access
        self._clock = clock

    def judge(self, subject: Subject, questions: tuple[Question, ...], asker: Asker) -> Judgement:
        now = self._clock.now()
        try:
            caller = self._authenticate(subject, questions, now)
        except AuthenticationFailed as exc:
            denied = tuple(Verdict(q, NOTHING_ALLOWED) for q in questions)
            judgement = Judgement(None, exc, denied)
        else:
            verdicts = tuple(self._decide(caller, q, now) for q in questions)
            judgement = Judgement(caller, None, verdicts)
        for verdict in judgement.verdicts:
            self._audit.record(audit_event(judgement, verdict, asker, now))
        return judgement

    def _authenticate(
        self, subject: Subject, questions: tuple[Question, ...], now: datetime
    ) -> Caller:
        if isinstance(subject, SigV4Subject):
            return self._authenticator.authenticate(
                subject.request, now=now, services=(ANY_SERVICE,)
            )
        region = arn_region(questions[0].resource) if questions else ""
        return self._authenticator.authenticate_bearer(
            subject.token, now=now, region=region, service="bridge"
        )

    def _decide(self, caller: Caller, question: Question, now: datetime) -> Verdict:
        facts = request_facts(now, question.context)
        decision = self._authorizer.decide(
            caller, question.action, question.resource, facts, question.context
        )
        self._last_access.record(caller, question.action, now=now, region=caller.region)
        return Verdict(question, decision)


def arn_region(resource: str) -> str:
    """The region field of an ARN (`arn:partition:service:region:…`), else empty."""
    parts = resource.split(":", 5)
    return parts[3] if len(parts) == 6 and parts[0] == "arn" else ""


def request_facts(now: datetime, context: Mapping[str, object]) -> RequestFacts:
    """The request keys the service reports, where `Authorizer` expects them."""
    lowered = {key.lower(): value for key, value in context.items()}
    source_ip = lowered.get("aws:sourceip")
    user_agent = lowered.get("aws:useragent")
    secure = lowered.get("aws:securetransport")
    return RequestFacts(
        now=now,
        source_ip=source_ip if isinstance(source_ip, str) else None,
        secure_transport=secure is True or (isinstance(secure, str) and secure.lower() == "true"),
        user_agent=user_agent if isinstance(user_agent, str) else None,
    )


def audit_event(judgement: Judgement, verdict: Verdict, asker: Asker, now: datetime) -> AuditEvent:
    """One `Authorize` event per action and resource decided."""
    question, decision = verdict.question, verdict.decision
    failure, caller = judgement.failure, judgement.caller
    facts = request_facts(now, question.context)
    code, message = None, None
    if failure is not None:
        code, message = failure.reason, failure.message
    elif not decision.allowed:
        code, message = "AccessDenied", f"{decision.effect} for `{question.action}`"
    return AuditEvent(
        time=now,
        event_name=EVENT_NAME,
        result="success" if decision.allowed else "failure",
        request_id=asker.request_id,
        principal=caller.arn if caller is not None else None,
        source_ip=facts.source_ip,
        user_agent=facts.user_agent,
        error_code=code,
        error_message=message,
        parameters={"context": redact(question.context)},
        details={
            "action": question.action,
            "resource": question.resource,
            "decision": decision.effect,
            "service": asker.arn,
            "access_key_id": caller.access_key_id if caller is not None else None,
        },
    )
