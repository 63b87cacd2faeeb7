"""The roles a local IAM user may assume from the portal, and the caller to assume them.

A role is offered when its trust policy allows `sts:AssumeRole` for the user and
either names the user itself or the user's identity policies allow `sts:AssumeRole`
on it: the same two checks `SessionIssuer.assume_role` makes (which still decides
when the person picks one). The root account assumes no roles, as in AWS.
"""

from __future__ import annotations

from typing import Any

from bridge.assume import caller_context
from bridge.authz.decide import Authorizer, RequestFacts
from bridge.authz.principal import Caller
from bridge.directory.service import Directory
from bridge.policy import Principal
from bridge.storage.interfaces import Role
from bridge.trust.check import TrustRequest, evaluate_trust
from bridge.trust.context import RequestKeys

REGION = "us-east-1"


def user_caller(directory: Directory, user_name: str) -> Caller:
    """The console user as a caller without access keys (`access_key_id` empty)."""
    user = directory.users.get(user_name)
    account = directory.account_id
    return Caller(
        kind="user",
        arn=directory.users.arn(user),
        account_id=account,
        principal_id=user.user_id,
        name=user.name,
        access_key_id="",
        region=REGION,
        service="sts",
        tags=user.tags,
    )


def assumable_roles(
    directory: Directory, authorizer: Authorizer, caller: Caller, facts: RequestFacts
) -> list[dict[str, Any]]:
    """Portal choices, in the shape of `SignedIn.roles`, ordered by role name."""
    chosen = []
    for role in directory.roles.list():
        arn = directory.roles.arn(role)
        if _trusted(role, arn, caller, facts) and (
            _named(role, arn, caller, facts)
            or authorizer.decide(caller, "sts:AssumeRole", arn, facts).allowed
        ):
            chosen.append(_choice(role, arn, caller))
    return chosen


def _choice(role: Role, arn: str, caller: Caller) -> dict[str, Any]:
    return {
        "role_arn": arn,
        "description": role.description,
        "session_name": caller.name or caller.account_id,
        "tags": [],
        "duration_seconds": None,
        "rule_id": None,
    }


def _context(caller: Caller, facts: RequestFacts) -> dict[str, object]:
    keys = RequestKeys(
        now=facts.now,
        session_name=caller.name,
        source_ip=facts.source_ip,
        mfa_present=False,
        principal_tags={tag.key: tag.value for tag in caller.tags},
    )
    return caller_context(caller, keys)


def _trusted(role: Role, arn: str, caller: Caller, facts: RequestFacts) -> bool:
    principal = Principal(arn=caller.arn, account=caller.account_id)
    request = TrustRequest("sts:AssumeRole", principal, _context(caller, facts))
    return evaluate_trust(role, arn, request).allowed


def _named(role: Role, arn: str, caller: Caller, facts: RequestFacts) -> bool:
    principal = Principal(arn=caller.arn, account="")
    request = TrustRequest("sts:AssumeRole", principal, _context(caller, facts))
    return evaluate_trust(role, arn, request).allowed
