"""The STS actions on the Query endpoint (Version 2011-06-15).

AssumeRoleWithSAML and AssumeRoleWithWebIdentity are unsigned (the assertion or
token is the credential) and go through `federate.py`; every issuance and every
refusal is an audit event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge.assume import AssumeRoleInput, MFACode
from bridge.audit import AuditEvent, redact
from bridge.auth_messages import MAX_ENCODED_CHARS, decode_authorization_message
from bridge.credentials.issue import IssuedCredentials
from bridge.errors import BridgeError, InvalidInput
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
        ctx.services.metrics.sign_in("unknown", "failure")
        trace = getattr(exc, "trace", None)  # federate_mapping.MappingRefused
        details = {"mapping": trace.to_dict()} if trace is not None else None
        _record(ctx, event, p, "failure", error=exc, details=details)
        raise
    ctx.services.metrics.sign_in(session.identity.provider_arn or "unknown", "success")
    details = {
        "role": session.role_arn,
        "provider": session.identity.provider_arn,
        "subject": session.identity.subject,
        "access_key_id": session.credentials.access_key_id,
        "expiration": session.credentials.expiration.isoformat(),
    }
    if session.trace is not None:
        details["mapping"] = session.trace.to_dict()
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
    if result == "success":  # every successful action recorded here issues credentials
        ctx.services.metrics.credentials_issued(event)
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


MFA_SERIAL = Field("SerialNumber", min_len=9, max_len=256, pattern=r"[\w+=/:,.@-]*")
TOKEN_CODE = Field("TokenCode", min_len=6, max_len=6, pattern=r"[\d]*")
TAGS = Field("Tags", kind="tags", default=[])


@STS.action(
    "AssumeRole",
    ROLE_ARN,
    SESSION_NAME,
    POLICY_ARNS,
    POLICY,
    DURATION,
    TAGS,
    Field("TransitiveTagKeys", kind="list", default=[], min_len=1, max_len=128),
    Field("ExternalId", min_len=2, max_len=1224, pattern=r"[\w+=,.@:/-]*"),
    MFA_SERIAL,
    TOKEN_CODE,
    Field("SourceIdentity", min_len=2, max_len=64, pattern=r"[\w+=,.@-]*"),
)
def assume_role(ctx: ActionContext, p: Params) -> Result:
    caller = ctx.require_caller()
    request = AssumeRoleInput(
        options=_options(ctx, p),
        external_id=p["ExternalId"],
        mfa=_mfa(p),
        tags=tuple(p["Tags"]),
        transitive_tag_keys=tuple(p["TransitiveTagKeys"]),
        source_identity=p["SourceIdentity"],
    )
    try:
        assumed = ctx.services.session_issuer.assume_role(caller, request, ctx.facts)
    except BridgeError as exc:
        _record(ctx, "AssumeRole", p, "failure", error=exc, principal=caller.arn)
        raise
    _record(
        ctx,
        "AssumeRole",
        p,
        "success",
        principal=caller.arn,
        details={"role": p["RoleArn"], "access_key_id": assumed.credentials.access_key_id},
    )
    return {
        "Credentials": credentials_shape(assumed.credentials),
        "AssumedRoleUser": {
            "AssumedRoleId": assumed.assumed_role_id,
            "Arn": assumed.assumed_role_arn,
        },
        "PackedPolicySize": assumed.packed_policy_size,
        "SourceIdentity": assumed.source_identity,
    }


@STS.action(
    "GetSessionToken",
    Field("DurationSeconds", kind="int", low=900, high=129600),
    MFA_SERIAL,
    TOKEN_CODE,
)
def get_session_token(ctx: ActionContext, p: Params) -> Result:
    caller = ctx.require_caller()
    credentials = ctx.services.session_issuer.session_token(caller, p["DurationSeconds"], _mfa(p))
    _record(
        ctx,
        "GetSessionToken",
        p,
        "success",
        principal=caller.arn,
        details={"access_key_id": credentials.access_key_id},
    )
    return {"Credentials": credentials_shape(credentials)}


@STS.action(
    "GetFederationToken",
    Field("Name", required=True, min_len=2, max_len=32, pattern=r"[\w+=,.@-]*"),
    POLICY,
    POLICY_ARNS,
    Field("DurationSeconds", kind="int", low=900, high=129600),
    TAGS,
)
def get_federation_token(ctx: ActionContext, p: Params) -> Result:
    caller = ctx.require_caller()
    options = SessionOptions(
        role_arn="",
        duration_seconds=p["DurationSeconds"],
        policy=p["Policy"],
        policy_arns=tuple(str(item.get("arn", "")) for item in p["PolicyArns"]),
    )
    credentials, packed = ctx.services.session_issuer.federation_token(
        caller, p["Name"], options, tuple(p["Tags"])
    )
    _record(
        ctx,
        "GetFederationToken",
        p,
        "success",
        principal=caller.arn,
        details={"access_key_id": credentials.access_key_id},
    )
    return {
        "Credentials": credentials_shape(credentials),
        "FederatedUser": {
            "FederatedUserId": f"{caller.account_id}:{p['Name']}",
            "Arn": f"arn:aws:sts::{caller.account_id}:federated-user/{p['Name']}",
        },
        "PackedPolicySize": packed,
    }


def _mfa(p: Params) -> MFACode | None:
    serial, code = p.get("SerialNumber"), p.get("TokenCode")
    if serial is None and code is None:
        return None
    if serial is None or code is None:
        raise InvalidInput("TokenCode", "SerialNumber and TokenCode must be given together")
    return MFACode(serial, code)


@STS.action(
    "DecodeAuthorizationMessage",
    Field("EncodedMessage", required=True, min_len=1, max_len=MAX_ENCODED_CHARS),
)
def decode_authorization_message_action(ctx: ActionContext, p: Params) -> Result:
    """Open a message sealed by this bridge; only for callers allowed the action."""
    ctx.authorize("sts:DecodeAuthorizationMessage", "*")
    decoded = decode_authorization_message(ctx.services.key_ring, p["EncodedMessage"])
    return {"DecodedMessage": json.dumps(decoded, separators=(",", ":"))}
