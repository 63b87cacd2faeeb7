"""The JSON answers of `POST /v1/authorize` (no Flask): single and batch forms."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from bridge.authz.judge import Judgement, Verdict
from bridge.authz.principal import Caller
from bridge.policy import Decision

_TYPES = {
    "root": "Account",
    "user": "User",
    "user-session": "User",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
}


def render(judgement: Judgement, *, batch: bool, request_id: str) -> dict[str, Any]:
    head: dict[str, Any] = {
        "principal": principal(judgement.caller),
        "reason": None,
        "error_code": None,
    }
    if judgement.failure is not None:
        head |= {"reason": judgement.failure.message, "error_code": judgement.failure.reason}
    if batch:
        return head | {
            "results": [_result(v) for v in judgement.verdicts],
            "request_id": request_id,
        }
    verdict = judgement.verdicts[0]
    if judgement.caller is not None:
        head["reason"] = _restriction(judgement.caller, verdict)
    return head | _decision(verdict.decision) | {"request_id": request_id}


def principal(caller: Caller | None) -> dict[str, Any] | None:
    if caller is None:
        return None
    session = caller.session
    is_session = session is not None and caller.kind in ("assumed-role", "federated-user")
    return {
        "arn": caller.arn,
        "type": "Account" if caller.is_root else _TYPES[caller.kind],
        "account_id": caller.account_id,
        "principal_id": caller.principal_id,
        "access_key_id": caller.access_key_id,
        "session_name": session.session_name if session is not None and is_session else None,
        "source_identity": session.source_identity if session is not None else None,
        "tags": {tag.key: tag.value for tag in caller.tags},
        "expiration": (
            session.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if session is not None
            else None
        ),
    }


def _result(verdict: Verdict) -> dict[str, Any]:
    question = verdict.question
    return {"action": question.action, "resource": question.resource} | _decision(verdict.decision)


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision.effect,
        "matched": [
            {"policy": m.policy_id, "statement": m.index, "sid": m.sid, "effect": m.effect}
            for m in decision.matched
        ],
        "missing_context": list(decision.missing_context),
    }


def _restriction(caller: Caller, verdict: Verdict) -> str | None:
    """Why the credentials may not do the action whatever the policies say, if so."""
    service, _, name = verdict.question.action.partition(":")
    return caller.restrictions.refusal(service.lower(), name)
