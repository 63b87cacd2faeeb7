"""The STS actions on the Query endpoint (Version 2011-06-15).

AssumeRoleWithSAML and AssumeRoleWithWebIdentity are unsigned (the assertion or
token is the credential) and go through `federate.py`; every issuance and every
refusal is an audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.audit import AuditEvent, redact
from bridge.credentials.issue import IssuedCredentials
from bridge.errors import BridgeError
from bridge.federate import FederatedSession
from bridge.query.errors import to_wire
from bridge.query.params import Field
from bridge.query.registry import ActionContext, Params, Registry, Result
from bridge.sessions import SessionOptions

STS = Registry("sts")

ROLE_ARN = Field("RoleArn", required=True, min_len=20, max_len=2048)
POLICY = Field("Policy", min_len=1, max_len=2048, pattern=r"[\u0009\u000A\u000D\u0020-\u00FF]+")
POLICY_ARNS = Field("PolicyArns", kind="structs", default=[])
DURATION = Field("DurationSeconds", kind="int", low=900, high=43200)
SESSION_NAME = Field(
    "RoleSessionName", required=True, min_len=2, max_len=64, pattern=r"[\w+=,.@-]*"
)


@STS.action("GetCallerIdentity")
def get_caller_identity(ctx: ActionContext, _params: Params) -> Result:
    """Never denied: it tells the caller who it is (contract §2)."""
    caller = ctx.require_caller()
    return {"UserId": caller.principal_id, "Account": caller.account_id, "Arn": caller.arn}


@STS.action(
    "AssumeRoleWithSAML",
    ROLE_ARN,
    Field("PrincipalArn", required=True, min_len=20, max_len=2048),
    Field("SAMLAssertion", required=True, min_len=4, max_len=100000),
    POLICY_ARNS,
    POLICY,
    DURATION,
    signed=False,
)
def assume_role_with_saml(ctx: ActionContext, p: Params) -> Result:
    federation = ctx.services.federation
    session = _audited(
        ctx,
        "AssumeRoleWithSAML",
        p,
        lambda: federation.with_saml(p["SAMLAssertion"], p["PrincipalArn"], _options(ctx, p)),
    )
    identity = session.identity
    return {
        **_session_result(session),
        "Subject": identity.subject,
        "SubjectType": identity.subject_type,
        "Issuer": identity.issuer,
        "Audience": identity.audience,
        "NameQualifier": identity.name_qualifier,
    }


@STS.action(
    "AssumeRoleWithWebIdentity",
    ROLE_ARN,
    SESSION_NAME,
    Field("WebIdentityToken", required=True, min_len=4, max_len=20000),
    Field("ProviderId", min_len=4, max_len=2048),
    POLICY_ARNS,
    POLICY,
    DURATION,
    signed=False,
)
def assume_role_with_web_identity(ctx: ActionContext, p: Params) -> Result:
    federation = ctx.services.federation
    session = _audited(
        ctx,
        "AssumeRoleWithWebIdentity",
        p,
        lambda: federation.with_web_identity(p["WebIdentityToken"], _options(ctx, p)),
    )
    identity = session.identity
    return {
        **_session_result(session),
        "SubjectFromWebIdentityToken": identity.subject,
        "Provider": identity.issuer,
        "Audience": identity.audience,
    }


def _options(ctx: ActionContext, p: Params) -> SessionOptions:
    return SessionOptions(
        role_arn=p["RoleArn"],
        session_name=p.get("RoleSessionName"),
        duration_seconds=p["DurationSeconds"],
        policy=p["Policy"],
        policy_arns=tuple(str(item.get("arn", "")) for item in p["PolicyArns"]),
        source_ip=ctx.facts.source_ip,
    )


def credentials_shape(credentials: IssuedCredentials) -> dict[str, Any]:
    return {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "SessionToken": credentials.session_token,
        "Expiration": credentials.expiration,
    }


def _session_result(session: FederatedSession) -> dict[str, Any]:
    return {
        "Credentials": credentials_shape(session.credentials),
        "AssumedRoleUser": {
            "AssumedRoleId": session.assumed_role_id,
            "Arn": session.assumed_role_arn,
        },
        "PackedPolicySize": session.packed_policy_size,
        "SourceIdentity": session.source_identity,
    }


def _audited(
    ctx: ActionContext, event: str, p: Params, grant: Callable[[], FederatedSession]
) -> FederatedSession:
    """Run the grant and record an audit event for its success or its refusal."""
    try:
        session = grant()
    except BridgeError as exc:
        _record(ctx, event, p, "failure", error=exc)
        raise
    details = {
        "role": session.role_arn,
        "provider": session.identity.provider_arn,
        "subject": session.identity.subject,
        "access_key_id": session.credentials.access_key_id,
        "expiration": session.credentials.expiration.isoformat(),
    }
    _record(ctx, event, p, "success", principal=session.assumed_role_arn, details=details)
    return session


def _record(
    ctx: ActionContext,
    event: str,
    p: Params,
    result: str,
    *,
    error: BridgeError | None = None,
    principal: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    wire = to_wire(error) if error is not None else None
    ctx.services.audit.record(
        AuditEvent(
            time=ctx.facts.now,
            event_name=event,
            result=result,
            request_id=ctx.request_id,
            principal=principal,
            source_ip=ctx.facts.source_ip,
            user_agent=ctx.facts.user_agent,
            error_code=wire.code if wire else (type(error).__name__ if error else None),
            error_message=error.message if error else None,
            parameters=redact(p),
            details=details or {},
        )
    )
