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

`evaluate()` compiles its policies into a `PolicySet` through one module-level
`PolicySetCache` (256 sets, least recently used dropped first). That process-wide
state is safe where the rest of the project keeps state in the app: the cache is
a bounded memo of a pure function. A `Policy` is immutable and equal (and hashed)
by id, kind and content digest, so equal inputs always compile to equivalent sets,
and a cached set only changes how fast an answer comes, never the answer; nothing
in it depends on time, randomness or configuration. Callers that hold a principal's
policies for longer (`authz`) build and keep their own `PolicySet` instead.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from bridge.policy.compiled import ActionIndex, Entry, Trace, applying
from bridge.policy.document import Policy
from bridge.policy.memo import Memo
from bridge.policy.model import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Decision,
    Principal,
    Request,
)
from bridge.policy.plan import ActionPlan, Refined, UncacheableError

_PLAN_LIMIT = 8192
_MEMO_LIMIT = 65536
_POLICY_SET_CACHE = 256
_KINDS = ("identity", "resource", "boundary", "session")
_EMPTY: Mapping[str, object] = {}
Outcome = Refined | Decision
MemoKey = tuple[Refined, str | None, Principal | None, tuple[object, ...]]


class PolicySet:
    """The policies that apply to one principal, compiled once.

    A request goes action -> `ActionPlan` (built once per set of candidate
    statements, found by action) -> resource bitmask of the statements that can apply
    (a few dict lookups, no per-statement work) -> `Refined` set for that mask (built
    once per mask) -> `Decision`. A `Refined` set without conditions, principals or
    variables is its fixed decision; otherwise conditions are evaluated only for the
    statements that survived action and resource, and the decision is memoised by
    the values of the keys they read. Every memo is a bounded `Memo`.
    """

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
        self._regexes: dict[str, re.Pattern[str]] = {}
        self._plans: Memo[str, ActionPlan] = Memo(_PLAN_LIMIT)
        self._plans_by_entries: Memo[tuple[int, ...], ActionPlan] = Memo(_PLAN_LIMIT)
        self._memo: Memo[MemoKey, Decision] = Memo(_MEMO_LIMIT)

    def evaluate(self, request: Request, principal: Principal | None = None) -> Decision:
        """Decide `request` for the caller `principal` (needed by resource policies)."""
        action = request.lowered_action
        plan = self._plans.recent.get(action) or self._plan(action)
        mask = plan.table.mask(request.resource)
        outcome = plan.refined.recent.get(mask) or self._refine(plan, mask)
        if isinstance(outcome, Decision):
            return outcome
        return self._remembered(outcome, request, principal)

    def _remembered(
        self, refined: Refined, request: Request, principal: Principal | None
    ) -> Decision:
        """The decision from the memo, or decided and remembered."""
        context = request.lowered_context
        try:
            values = refined.values(context)
        except UncacheableError:
            return self._decide(refined, request.resource, context, principal)
        memo_key = (refined, request.resource if refined.dynamic else None, principal, values)
        memo = self._memo
        decision = memo.recent.get(memo_key) or memo.revive(memo_key)
        if decision is None:
            decision = self._decide(refined, request.resource, context, principal)
            memo.put(memo_key, decision)
        return decision

    def _refine(self, plan: ActionPlan, mask: int) -> Outcome:
        """The refined set of `mask` in `plan` (or its fixed decision), built on a miss."""
        found = plan.refined.revive(mask)
        if found is not None:
            return found
        refined = plan.narrow(mask)
        outcome: Outcome = refined
        if refined.static:
            outcome = self._decide(refined, "", _EMPTY, None)
        plan.refined.put(mask, outcome)
        return outcome

    def _plan(self, action: str) -> ActionPlan:
        found = self._plans.revive(action)
        return self._new_plan(action) if found is None else found

    def _new_plan(self, action: str) -> ActionPlan:
        """The plan of `action`, shared by the actions that have the same candidates (all
        the actions a `s3:*` statement covers, say) with what it has learnt by mask."""
        candidates = self._index.candidates(action)
        signature = tuple(entry.order for entry in candidates)
        plan = self._plans_by_entries.get(signature)
        if plan is None:
            plan = ActionPlan(candidates, self._regexes)
            self._plans_by_entries.put(signature, plan)
        self._plans.put(action, plan)
        return plan

    def _decide(
        self,
        refined: Refined,
        resource: str,
        context: Mapping[str, object],
        principal: Principal | None,
    ) -> Decision:
        trace = Trace()
        deny_group, allow_group, boundary, session = refined.groups
        if deny_group:
            denies = applying(deny_group, resource, context, principal, trace)
            if denies:
                return refined.decision(EXPLICIT_DENY, denies, trace)
        granted = applying(allow_group, resource, context, principal, trace) if allow_group else 0
        if not granted:
            return refined.decision(IMPLICIT_DENY, 0, trace)
        for required, entries in ((self.boundary, boundary), (self.session, session)):
            if required:
                allows = applying(entries, resource, context, principal, trace)
                if not allows:
                    return refined.decision(IMPLICIT_DENY, granted, trace)
                granted |= allows
        return refined.decision(ALLOWED, granted, trace)


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
    key = (tuple(identity), tuple(boundary or ()), tuple(session or ()), resource)
    return _SHARED.policy_set(key).evaluate(request, principal)


CacheKey = tuple[tuple[Policy, ...], tuple[Policy, ...], tuple[Policy, ...], Policy | None]


class PolicySetCache:
    """Compiled `PolicySet`s by their policies, at most `maxsize`, least recently used
    dropped first. Thread-safe; two threads missing the same key may both compile it."""

    def __init__(self, maxsize: int = _POLICY_SET_CACHE) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._sets: OrderedDict[CacheKey, PolicySet] = OrderedDict()
        self._lock = threading.Lock()

    def policy_set(self, key: CacheKey) -> PolicySet:
        """The compiled set for (identity, boundary, session, resource), built on a miss."""
        with self._lock:
            found = self._sets.get(key)
            if found is not None:
                self._sets.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        identity, boundary, session, resource = key
        built = PolicySet(identity, boundary=boundary, session=session, resource=resource)
        with self._lock:
            self._sets[key] = built
            while len(self._sets) > self.maxsize:
                self._sets.popitem(last=False)
        return built

    def info(self) -> functools._CacheInfo:
        """Hits, misses, maximum and current size, as `functools.lru_cache` reports them."""
        with self._lock:
            return functools._CacheInfo(self.hits, self.misses, self.maxsize, len(self._sets))

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()
            self.hits = self.misses = 0


# The one module-level state of the engine: see the module docstring.
_SHARED = PolicySetCache()


def policy_set_cache_info() -> functools._CacheInfo:
    """Hits and misses of the compiled-set cache behind `evaluate()`."""
    return _SHARED.info()
