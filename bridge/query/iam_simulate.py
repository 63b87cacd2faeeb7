"""IAM `SimulatePrincipalPolicy` and `SimulateCustomPolicy` on the shared policy engine.

Every policy gets the id IAM shows (`PolicyInputList.1`, a managed policy's name,
`user_<User>_<Policy>` for an inline one) and keeps its JSON text, so each matched
statement is reported with its 1-based start position (the opening brace) and end
position (just after the closing brace) in that text. Context entries are converted
from their `ContextKeyType` to the engine's values (contract §4); that conversion and the
position scan are in `iam_simulate_inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bridge.errors import InvalidInput, MalformedPolicy
from bridge.policy import (
    Decision,
    MatchedStatement,
    PolicyError,
    PolicySet,
    Principal,
    parse_policy,
)
from bridge.policy import Request as EngineRequest
from bridge.query.iam import IAM, PAGING, arn_field, document_field, paginate
from bridge.query.iam_reports import StoredPolicy, any_resource, principal_policies
from bridge.query.iam_simulate_inputs import context_values, line_column, statement_spans
from bridge.query.params import POLICY_PATTERN, Field
from bridge.query.registry import ActionContext, Params, Result

IAM_POLICY = "IAM Policy"
BOUNDARY_KEY = "permission-boundary"


def _policy_list(name: str, *, required: bool = False) -> Field:
    return Field(
        name, kind="list", required=required, min_len=1, max_len=131072, pattern=POLICY_PATTERN
    )


BOUNDARY_INPUTS = "PermissionsBoundaryPolicyInputList"
COMMON = (
    Field("ActionNames", kind="list", required=True, min_len=3, max_len=128),
    _policy_list(BOUNDARY_INPUTS),
    Field("ResourceArns", kind="list", min_len=1, max_len=2048),
    document_field("ResourcePolicy", required=False),
    Field("ResourceOwner", min_len=1, max_len=2048),
    Field("CallerArn", min_len=1, max_len=2048),
    Field("ContextEntries", kind="structs", default=[]),
    Field("ResourceHandlingOption", min_len=1, max_len=64),
    *PAGING,
)


class Source:
    """A policy as the simulation shows it: engine policy, IAM type, text and exclusion key."""

    def __init__(
        self,
        text: str,
        policy_id: str,
        shown_type: str,
        *,
        kind: str = "identity",
        strict: bool = True,
        key: str = "",
    ) -> None:
        try:
            self.policy = parse_policy(text, strict=strict, kind=kind, policy_id=policy_id)
        except PolicyError as error:
            where = f"{policy_id}.{error.path}" if error.path else policy_id
            raise MalformedPolicy(error.message, where) from error
        self.shown_type = shown_type
        self.key = key
        self._text = text
        self._spans = statement_spans(text)

    def position(self, index: int) -> tuple[dict[str, int], dict[str, int]]:
        """Start and end of statement `index` (line 1, column 1 when it cannot be found)."""
        if index >= len(self._spans):
            return {"Line": 1, "Column": 1}, {"Line": 1, "Column": 1}
        start, end = self._spans[index]
        return line_column(self._text, start), line_column(self._text, end)


def _inputs(texts: Sequence[str], name: str) -> tuple[Source, ...]:
    """Documents given in the request, strictly parsed, with ids `<Name>.1`, `<Name>.2`…"""
    return tuple(Source(text, f"{name}.{n}", IAM_POLICY) for n, text in enumerate(texts, 1))


# --- the principal's own policies ------------------------------------------------------


def _stored(policy: StoredPolicy) -> Source:
    """IAM's ids: a managed policy's name, `<kind>_<owner>_<name>` for an inline one."""
    if policy.arn is not None:
        return Source(policy.document, policy.name, "user-managed", strict=False, key=policy.arn)
    owner = policy.owner_name
    return Source(
        policy.document,
        f"{policy.owner_kind}_{owner}_{policy.name}",
        policy.owner_kind,
        strict=False,
        key=f"inline:{policy.owner_kind}:{owner.lower()}:{policy.name}",
    )


def _exclusion_key(item: Mapping[str, Any]) -> str:
    """`PolicyExclusionList` items: a policy ARN, an inline policy, or the boundary."""
    if item.get("PolicyType") == "permission-boundary":
        return BOUNDARY_KEY
    if item.get("PolicyArn"):
        return str(item["PolicyArn"])
    prefix = "InlinePolicyIdentifier."
    kind, owner = item.get(prefix + "AttachmentType"), item.get(prefix + "AttachmentName")
    return f"inline:{kind}:{str(owner).lower()}:{item.get(prefix + 'PolicyName')}"


# --- evaluation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    identity: tuple[Source, ...]
    boundary: tuple[Source, ...]
    resource: Source | None
    organizations: tuple[tuple[Source, ...], ...]
    principal: Principal | None
    cross_account: bool
    context: Mapping[str, object]


def _simulation(
    ctx: ActionContext,
    p: Params,
    identity: tuple[Source, ...],
    boundary: tuple[Source, ...],
    caller: str | None,
    organizations: tuple[tuple[Source, ...], ...] = (),
) -> Simulation:
    resource = None
    if p["ResourcePolicy"] is not None:
        if caller is None:
            raise InvalidInput("CallerArn", "is needed to match the Principal of a ResourcePolicy")
        resource = Source(p["ResourcePolicy"], "ResourcePolicy", "resource", kind="resource")
    caller_account = _account_of(caller, "CallerArn") if caller else ctx.account_id
    owner = p["ResourceOwner"]
    return Simulation(
        identity=identity,
        boundary=boundary,
        resource=resource,
        organizations=organizations,
        principal=Principal(caller, account=caller_account) if caller else None,
        cross_account=owner is not None and _account_of(owner, "ResourceOwner") != caller_account,
        context=context_values(p["ContextEntries"]),
    )


def _account_of(value: str, field: str) -> str:
    """The account of an ARN (`arn:aws:iam::<account>:root`) or of a bare account id."""
    if value.isdigit() and len(value) == 12:
        return value
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[4].isdigit():
        return parts[4]
    raise InvalidInput(field, f"`{value}` is neither an account id nor an arn with an account")


class Evaluator:
    """Decides (action, resource) pairs of one simulation; each policy set compiled once."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        every = [*sim.identity, *sim.boundary, *(s for level in sim.organizations for s in level)]
        self.by_id = {s.policy.id: s for s in [*every, *([sim.resource] if sim.resource else [])]}
        identity = [s.policy for s in sim.identity]
        boundary = [s.policy for s in sim.boundary] or None
        resource = sim.resource.policy if sim.resource else None
        self.full = PolicySet(identity, boundary=boundary, resource=resource)
        self.mine = PolicySet(identity, boundary=boundary)
        self.theirs = PolicySet([], resource=resource) if resource else None
        self.boundary = PolicySet(boundary) if boundary else None
        self.levels = [PolicySet([s.policy for s in level]) for level in sim.organizations]

    def decide(self, action: str, resource: str) -> tuple[Decision, dict[str, Any]]:
        request = EngineRequest(action, resource, self.sim.context)
        caller = self.sim.principal
        decision = self.full.evaluate(request, caller)
        details: dict[str, Any] = {}
        if self.theirs is not None:
            mine, theirs = (
                self.mine.evaluate(request, caller),
                self.theirs.evaluate(request, caller),
            )
            details["EvalDecisionDetails"] = [
                {"key": IAM_POLICY, "value": mine.effect},
                {"key": "Resource Policy", "value": theirs.effect},
            ]
            if self.sim.cross_account:
                decision = _both(decision, mine, theirs)
        if self.boundary is not None:
            allowed = self.boundary.evaluate(request, caller).allowed
            details["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": allowed}
        if self.levels:
            decision, allowed = _gated(decision, [s.evaluate(request, caller) for s in self.levels])
            details["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": allowed}
        return decision, details

    def statements(self, matched: Sequence[MatchedStatement]) -> list[dict[str, Any]]:
        shown = []
        for item in matched:
            source = self.by_id.get(item.policy_id)
            if source is not None:
                start, end = source.position(item.index)
                shown.append(
                    {
                        "SourcePolicyId": item.policy_id,
                        "SourcePolicyType": source.shown_type,
                        "StartPosition": start,
                        "EndPosition": end,
                    }
                )
        return shown


def _both(full: Decision, mine: Decision, theirs: Decision) -> Decision:
    """Across accounts the identity side and the resource policy must both allow."""
    if full.effect == "explicitDeny" or (mine.allowed and theirs.allowed):
        return full
    return Decision("implicitDeny", (*mine.matched, *theirs.matched), full.missing_context)


def _gated(decision: Decision, levels: Sequence[Decision]) -> tuple[Decision, bool]:
    """Every organization level (SCPs) must allow; a deny in any of them is explicit."""
    denied = next((level for level in levels if level.effect == "explicitDeny"), None)
    if denied is not None:
        return Decision("explicitDeny", denied.matched, decision.missing_context), False
    allowed = all(level.allowed for level in levels)
    if decision.allowed and not allowed:
        return Decision("implicitDeny", decision.matched, decision.missing_context), False
    return decision, allowed


def _results(sim: Simulation, p: Params) -> Result:
    evaluator = Evaluator(sim)
    given = p["ResourceArns"] or []
    results = [
        _result(evaluator, action, resource, specific=bool(given))
        for action in p["ActionNames"]
        for resource in given or ["*"]
    ]
    page, meta = paginate(results, p)
    return {"EvaluationResults": list(page), **meta}


def _result(evaluator: Evaluator, action: str, resource: str, *, specific: bool) -> dict[str, Any]:
    decision, details = evaluator.decide(action, resource)
    outcome = {
        "MatchedStatements": evaluator.statements(decision.matched),
        "MissingContextValues": list(decision.missing_context),
    }
    result: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision.effect,
        **outcome,
        **details,
    }
    if specific:
        per_resource = {k: v for k, v in details.items() if k != "OrganizationsDecisionDetail"}
        result["ResourceSpecificResults"] = [
            {
                "EvalResourceName": resource,
                "EvalResourceDecision": decision.effect,
                **outcome,
                **per_resource,
            }
        ]
    return result


# --- the actions ------------------------------------------------------------------------


def _policy_source(ctx: ActionContext, p: Params) -> str:  # noqa: ARG001
    return str(p["PolicySourceArn"])


@IAM.action(
    "SimulatePrincipalPolicy",
    arn_field("PolicySourceArn"),
    _policy_list("PolicyInputList"),
    Field("PolicyExclusionList", kind="structs", default=[]),
    *COMMON,
    resource=_policy_source,
)
def simulate_principal_policy(ctx: ActionContext, p: Params) -> Result:
    found = principal_policies(ctx, p["PolicySourceArn"])
    excluded = {_exclusion_key(item) for item in p["PolicyExclusionList"]}
    own = tuple(s for s in map(_stored, found.identity) if s.key not in excluded)
    extra = _inputs(p["PolicyInputList"] or [], "PolicyInputList")
    boundary = _inputs(p[BOUNDARY_INPUTS] or [], BOUNDARY_INPUTS)
    if not boundary and found.boundary is not None and BOUNDARY_KEY not in excluded:
        boundary = (_stored(found.boundary),)
    caller = p["CallerArn"] or found.caller_arn
    return _results(_simulation(ctx, p, (*own, *extra), boundary, caller), p)


@IAM.action(
    "SimulateCustomPolicy",
    _policy_list("PolicyInputList", required=True),
    Field("OrderedOrganizationPolicyInputList", kind="structs", default=[]),
    *COMMON,
    resource=any_resource,
)
def simulate_custom_policy(ctx: ActionContext, p: Params) -> Result:
    levels = tuple(
        _inputs(
            level.get("ServiceControlPolicyInputList", []),
            f"OrderedOrganizationPolicyInputList.{n}.ServiceControlPolicyInputList",
        )
        for n, level in enumerate(p["OrderedOrganizationPolicyInputList"], start=1)
    )
    identity = _inputs(p["PolicyInputList"], "PolicyInputList")
    boundary = _inputs(p[BOUNDARY_INPUTS] or [], BOUNDARY_INPUTS)
    return _results(_simulation(ctx, p, identity, boundary, p["CallerArn"], levels), p)
