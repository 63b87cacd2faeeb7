"""The STS registry and the STS actions available so far."""

from __future__ import annotations

from bridge.query.registry import ActionContext, Params, Registry, Result

STS = Registry("sts")


@STS.action("GetCallerIdentity")
def get_caller_identity(ctx: ActionContext, _params: Params) -> Result:
    """Never denied: it tells the caller who it is (contract §2)."""
    caller = ctx.require_caller()
    return {"UserId": caller.principal_id, "Account": caller.account_id, "Arn": caller.arn}
