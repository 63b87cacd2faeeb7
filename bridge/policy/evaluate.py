"""`PolicySet` and `evaluate()`: IAM's documented evaluation logic.

1. An applicable `Deny` in any policy (identity, boundary, session, resource)
   gives `explicitDeny`.
2. Otherwise an `Allow` is needed from the identity policies or from the resource
   policy (its `Principal` must match the caller): a resource-policy allow counts
   in place of an identity allow.
3. When a permissions boundary is given, it must allow too; when session policies
   are given, one of them must allow too (an empty list counts as not given).
4. Otherwise `implicitDeny`; the allows cut off by a boundary or session policy
   are reported in `matched`.

A statement with a condition that cannot be evaluated does not apply; a deny of
that kind is reported in `unevaluable_denies`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from bridge.policy.compiled import NO_MATCH, STATIC_MATCH, ActionIndex, Entry, Trace, applying
from bridge.policy.document import Policy
from bridge.policy.model import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Decision,
    MatchedStatement,
    Principal,
    Request,
)

_PLAN_LIMIT = 8192
_REFINED_LIMIT = 16384
_MEMO_LIMIT = 65536
_POLICY_SET_CACHE = 256
_NOTHING = Decision(IMPLICIT_DENY)
_KINDS = ("identity", "resource", "boundary", "session")
# A plan is, for one action: (denies, identity allows, resource allows, boundary allows,
# session allows).
Plan = tuple[tuple[Entry, ...], ...]
Group = tuple[tuple[Entry, bool], ...]


class Refined:
    """A plan narrowed to one (action, resource): entries with "resource already matched".

    `keys` are the request keys that can change the decision; decisions are memoised
    by their values, so a repeated request costs one lookup.
    """

    __slots__ = ("groups", "keys")

    def __init__(self, groups: tuple[Group, ...]) -> None:
        self.groups = groups
        keys: set[str] = set()
        for group in groups:
            for entry, _ in group:
                keys |= entry.context_keys()
        self.keys = tuple(sorted(keys))

    def values(self, context: Mapping[str, object]) -> tuple[object, ...]:
        """The request's values of `keys`, typed so that `True` and `1` differ."""
        return tuple(_frozen(context.get(key)) for key in self.keys)


class _UncacheableError(Exception):
    """A context value outside the documented types: decide without the memo."""


def _frozen(value: object) -> object:
    if value is None or type(value) is str:
        return value
    if isinstance(value, list):
        return tuple((item.__class__, _frozen(item)) for item in value)
    if isinstance(value, int | float):
        return (value.__class__, value)
    raise _UncacheableError


class PolicySet:
    """The policies that apply to one principal, compiled once."""

    def __init__(
        self,
        identity: Sequence[Policy],
        *,
        boundary: Sequence[Policy] | None = None,
        session: Sequence[Policy] | None = None,
        resource: Policy | None = None,
    ) -> None:
        self.identity = tuple(identity)
        self.boundary = tuple(boundary or ())
        self.session = tuple(session or ())
        self.resource = resource
        groups = (self.identity, (resource,) if resource else (), self.boundary, self.session)
        entries = [
            Entry(statement, policy.id, kind, 0)
            for kind, policies in zip(_KINDS, groups, strict=True)
            for policy in policies
            for statement in policy.statements
        ]
        for order, entry in enumerate(entries):
            entry.order = order
        self._index = ActionIndex(entries)
        self._plans: dict[str, Plan] = {}
        self._refined: dict[tuple[str, str], Refined | Decision] = {}
        self._memo: dict[
            tuple[tuple[str, str], Principal | None, tuple[object, ...]], Decision
        ] = {}

    def evaluate(self, request: Request, principal: Principal | None = None) -> Decision:
        """Decide `request` for the caller `principal` (needed by resource policies)."""
        key = (request.lowered_action, request.resource)
        refined = self._refined.get(key)
        if refined is None:
            refined = self._refine(key)
        if isinstance(refined, Decision):
            return refined
        context = request.lowered_context
        try:
            memo_key = (key, principal, refined.values(context))
        except _UncacheableError:
            return self._decide(refined, request.resource, context, principal)
        decision = self._memo.get(memo_key)
        if decision is None:
            decision = self._decide(refined, request.resource, context, principal)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[memo_key] = decision
        return decision

    def _decide(
        self,
        refined: Refined,
        resource: str,
        context: Mapping[str, object],
        principal: Principal | None,
    ) -> Decision:
        trace = Trace()
        groups = refined.groups
        denies = applying(groups[0], resource, context, principal, trace)
        if denies:
            return _decision(EXPLICIT_DENY, denies, trace)
        granted = applying(groups[1], resource, context, principal, trace)
        if groups[2]:
            granted += applying(groups[2], resource, context, principal, trace)
        if not granted:
            return _decision(IMPLICIT_DENY, granted, trace)
        for required, entries in ((self.boundary, groups[3]), (self.session, groups[4])):
            if required:
                allows = applying(entries, resource, context, principal, trace)
                if not allows:
                    return _decision(IMPLICIT_DENY, granted, trace)
                granted += allows
        return _decision(ALLOWED, granted, trace)

    def _refine(self, key: tuple[str, str]) -> Refined | Decision:
        """The statements that can apply to one (action, resource), or the fixed decision."""
        plan = self._plans.get(key[0]) or self._plan(key[0])
        refined = Refined(tuple(_refine_group(group, key[1]) for group in plan))
        static = all(
            matched and entry.unconditional for group in refined.groups for entry, matched in group
        )
        result: Refined | Decision = refined
        if static:
            result = self._decide(refined, key[1], {}, None)
        if len(self._refined) >= _REFINED_LIMIT:
            self._refined.clear()
        self._refined[key] = result
        return result

    def _plan(self, action: str) -> Plan:
        candidates = self._index.candidates(action)
        denies = tuple(entry for entry in candidates if entry.is_deny)
        allows = [entry for entry in candidates if not entry.is_deny]
        by_kind = tuple(
            tuple(entry for entry in allows if entry.matched.policy_kind == kind) for kind in _KINDS
        )
        plan = (denies, *by_kind)
        if len(self._plans) >= _PLAN_LIMIT:
            self._plans.clear()
        self._plans[action] = plan
        return plan


def _refine_group(group: tuple[Entry, ...], resource: str) -> Group:
    refined = []
    for entry in group:
        state = entry.resource_state(resource)
        if state != NO_MATCH:
            refined.append((entry, state == STATIC_MATCH))
    return tuple(refined)


def _decision(
    effect: str,
    matched: list[MatchedStatement],
    trace: Trace,
) -> Decision:
    missing, unevaluable = trace.missing, trace.unevaluable
    if not (matched or missing or unevaluable) and effect == IMPLICIT_DENY:
        return _NOTHING
    keys = tuple(sorted(set(missing))) if missing else ()
    return Decision(effect, tuple(matched), keys, tuple(unevaluable))


def evaluate(
    request: Request,
    identity: Sequence[Policy],
    *,
    boundary: Sequence[Policy] | None = None,
    session: Sequence[Policy] | None = None,
    resource: Policy | None = None,
    principal: Principal | None = None,
) -> Decision:
    """One-shot evaluation; equal policies reuse a cached compiled `PolicySet`."""
    policy_set = _policy_set(tuple(identity), tuple(boundary or ()), tuple(session or ()), resource)
    return policy_set.evaluate(request, principal)


@functools.lru_cache(maxsize=_POLICY_SET_CACHE)
def _policy_set(
    identity: tuple[Policy, ...],
    boundary: tuple[Policy, ...],
    session: tuple[Policy, ...],
    resource: Policy | None,
) -> PolicySet:
    """A process-wide, bounded memo of a pure function: `Policy` hashes by content digest."""
    return PolicySet(identity, boundary=boundary, session=session, resource=resource)


def policy_set_cache_info() -> functools._CacheInfo:
    """Hits and misses of the compiled-set cache behind `evaluate()`."""
    return _policy_set.cache_info()
