"""Translate the benchmark's IAM roles into Cedar and ask cedarpy for decisions.

The translation, one Cedar policy per IAM statement (one role = one policy set):

- Effect: `Allow` becomes `permit`, `Deny` becomes `forbid`. Cedar's rules then
  match IAM's: any satisfied `forbid` wins, else any satisfied `permit` allows,
  else the request is denied by default.
- Entities: the request's action is `Action::"<svc:Name>"` with a `name`
  attribute holding the same string; the resource is `Resource::"<arn>"` with
  an `arn` attribute. All catalogue actions and pool resources are loaded once
  into one pre-parsed `cedarpy.Entities` handle. The principal is
  `Role::"<role>"` and is never inspected (one policy set per role).
- `Action`: a list of exact actions goes to the scope, `action in [Action::"..."]`
  (Cedar indexes it). A `*` pattern becomes `action.name like "<pattern>"` in
  the `when` clause. Cedar's `like` has no one-character wildcard, so a `?`
  pattern (`dynamodb:?etItem`) is expanded against the action catalogue into
  `action in [...]`, which is exact because the catalogue is the whole action
  universe of the workload.
- `Resource`: `*` anywhere in the list means no constraint; one exact ARN goes to
  the scope, `resource == Resource::"<arn>"`; otherwise
  `resource.arn == "..." || resource.arn like "..."` in the `when` clause.
  IAM's `*` in an ARN matches across `:` and `/`, and so does Cedar's `like`.
- `Condition`: every operator/key pair is ANDed, the values of one pair are
  ORed, as in IAM. A missing key makes the pair false (IAM's rule for these
  operators), written `context has "<key>" && ...`:
  `StringEquals` is `==`, `StringLike` is `like`, `NumericLessThan` is `<` on a
  Long, `Bool` is `== true|false` on a Boolean, `IpAddress` is
  `ip(context["k"]).isInRange(ip("<cidr>"))`, `DateGreaterThan` is
  `datetime(context["k"]) > datetime("<iso>")`. The request context is typed for
  Cedar: `aws:MultiFactorAuthPresent` becomes a Boolean and
  `aws:MultiFactorAuthAge` a Long, other keys stay strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import cedarpy
from policy_workload import BenchRequest, Condition, Role, Statement, wildcard_match

BOOL_KEYS = frozenset({"aws:MultiFactorAuthPresent"})
LONG_KEYS = frozenset({"aws:MultiFactorAuthAge"})


def quote(text: str) -> str:
    """A Cedar string literal (JSON escaping is a subset of Cedar's)."""
    return json.dumps(text)


def any_of(clauses: Sequence[str]) -> str:
    return clauses[0] if len(clauses) == 1 else "(" + " || ".join(clauses) + ")"


def action_list(actions: Sequence[str]) -> str:
    return "[" + ", ".join(f"Action::{quote(a)}" for a in actions) + "]"


def action_parts(patterns: Sequence[str], catalogue: Sequence[str]) -> tuple[str, list[str]]:
    """The scope part (`action in [...]`) and `when` clauses for a statement's actions."""
    exact = [p for p in patterns if "*" not in p and "?" not in p]
    single = [a for p in patterns if "?" in p for a in catalogue if wildcard_match(p, a)]
    likes = [f"action.name like {quote(p)}" for p in patterns if "*" in p]
    listed = list(dict.fromkeys(exact + single))
    if not likes:
        return f"action in {action_list(listed)}", []
    clauses = ([f"action in {action_list(listed)}"] if listed else []) + likes
    return "action", [any_of(clauses)]


def resource_parts(resources: Sequence[str]) -> tuple[str, list[str]]:
    """The scope part (`resource == ...`) and `when` clauses for a statement's resources."""
    if "*" in resources:
        return "resource", []
    if len(resources) == 1 and "*" not in resources[0]:
        return f"resource == Resource::{quote(resources[0])}", []
    ops = [("like" if "*" in r else "==") for r in resources]
    return "resource", [
        any_of([f"resource.arn {op} {quote(r)}" for op, r in zip(ops, resources, strict=True)])
    ]


def value_test(condition: Condition, ref: str, value: str) -> str:
    operator = condition.operator
    if operator == "StringEquals":
        return f"{ref} == {quote(value)}"
    if operator == "StringLike":
        return f"{ref} like {quote(value)}"
    if operator == "NumericLessThan":
        return f"{ref} < {int(value)}"
    if operator == "Bool":
        return f"{ref} == {value.lower()}"
    if operator == "IpAddress":
        return f"ip({ref}).isInRange(ip({quote(value)}))"
    if operator == "DateGreaterThan":
        return f"datetime({ref}) > datetime({quote(value)})"
    raise ValueError(f"no cedar translation for operator `{operator}`")


def condition_clause(condition: Condition) -> str:
    ref = f"context[{quote(condition.key)}]"
    tests = [value_test(condition, ref, v) for v in condition.values]
    return f"(context has {quote(condition.key)} && {any_of(tests)})"


def translate_statement(statement: Statement, catalogue: Sequence[str]) -> str:
    """One IAM statement as one Cedar policy (see the module docstring)."""
    action_scope, action_when = action_parts(statement.actions, catalogue)
    resource_scope, resource_when = resource_parts(statement.resources)
    clauses = action_when + resource_when + [condition_clause(c) for c in statement.conditions]
    effect = "permit" if statement.effect == "Allow" else "forbid"
    head = f"@id({quote(statement.sid)})\n{effect}(principal, {action_scope}, {resource_scope})"
    return head + (" when { " + " && ".join(clauses) + " };" if clauses else ";")


def translate_role(role: Role, catalogue: Sequence[str]) -> str:
    return "\n".join(translate_statement(s, catalogue) for s in role.statements)


def entities_json(actions: Sequence[str], resources: Sequence[str]) -> str:
    """Every action and resource of the workload as Cedar entities with their string attribute."""
    acts = [
        {"uid": {"type": "Action", "id": a}, "attrs": {"name": a}, "parents": []} for a in actions
    ]
    res = [
        {"uid": {"type": "Resource", "id": r}, "attrs": {"arn": r}, "parents": []}
        for r in resources
    ]
    return json.dumps(acts + res)


def typed_context(context: Mapping[str, str]) -> dict[str, object]:
    converters: dict[str, Callable[[str], object]] = {}
    converters.update(dict.fromkeys(BOOL_KEYS, lambda v: v == "true"))
    converters.update(dict.fromkeys(LONG_KEYS, int))
    return {k: converters.get(k, str)(v) for k, v in context.items()}


def cedar_request(request: BenchRequest, role: Role) -> dict[str, object]:
    return {
        "principal": {"type": "Role", "id": role.name},
        "action": {"type": "Action", "id": request.action},
        "resource": {"type": "Resource", "id": request.resource},
        "context": typed_context(request.context),
    }


class CedarBench:
    """Pre-parsed policy sets (one per role) and entities, ready for batched decisions."""

    def __init__(
        self, roles: Sequence[Role], actions: Sequence[str], resources: Sequence[str]
    ) -> None:
        self.roles = roles
        self.policy_sets = [cedarpy.PolicySet.from_str(translate_role(r, actions)) for r in roles]
        self.entities = cedarpy.Entities.from_json_str(entities_json(actions, resources))

    def group(
        self, requests: Sequence[BenchRequest]
    ) -> dict[int, list[tuple[int, dict[str, object]]]]:
        """Requests by role, each with its position, already in Cedar's shape."""
        groups: dict[int, list[tuple[int, dict[str, object]]]] = {}
        for position, request in enumerate(requests):
            entry = (position, cedar_request(request, self.roles[request.role]))
            groups.setdefault(request.role, []).append(entry)
        return groups

    def run(self, groups: Mapping[int, Sequence[tuple[int, dict[str, object]]]]) -> list[object]:
        """One `is_authorized_batch` per role; results back in request order."""
        size = sum(len(g) for g in groups.values())
        results: list[object] = [None] * size
        for role, entries in groups.items():
            batch = [req for _, req in entries]
            answers = cedarpy.is_authorized_batch(batch, self.policy_sets[role], self.entities)
            for (position, _), answer in zip(entries, answers, strict=True):
                results[position] = answer
        return results


def cedar_effect(result: object) -> str:
    """Cedar's answer in bridge's three effects (a `Deny` with reasons is a satisfied `forbid`)."""
    decision = getattr(result, "decision", None)
    if decision == cedarpy.Decision.Allow:
        return "allowed"
    reasons = getattr(getattr(result, "diagnostics", None), "reasons", [])
    return "explicitDeny" if reasons else "implicitDeny"


def cedar_errors(results: Sequence[object]) -> int:
    """How many answers carried evaluation errors (a faithful translation has none)."""
    return sum(1 for r in results if getattr(getattr(r, "diagnostics", None), "errors", []))
