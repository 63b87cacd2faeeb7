"""Statements prepared for evaluation, and the index that finds them by action.

An `Entry` is a statement placed in a `PolicySet` (with its policy id, kind and
order); it reports its `MatchedStatement`, built once. The `ActionIndex` files
entries by exact action name, by service prefix (wildcard actions) and in a global
bucket (`*`, wildcard services, `NotAction`), so a decision only looks at the
statements that can match the action.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from bridge.policy.conditions import UnevaluableError
from bridge.policy.matching import has_wildcard
from bridge.policy.model import MatchedStatement, Principal
from bridge.policy.statement import DENY, Statement

UNKNOWN = 0
RESOURCE_MATCHED = 1
APPLIES = 2


class Trace:
    """What one evaluation collects besides the matched statements."""

    __slots__ = ("missing", "unevaluable")

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.unevaluable = 0  # bits of the denies whose conditions could not be evaluated


class Entry:
    """One statement of one policy in a policy set."""

    __slots__ = (
        "actions",
        "conditions",
        "is_deny",
        "keys",
        "matched",
        "order",
        "principals",
        "resources",
        "unconditional",
    )

    def __init__(self, statement: Statement, policy_id: str, kind: str, order: int) -> None:
        self.actions = statement.actions
        resources = statement.resources
        self.resources = None if resources is None or resources.matches_all else resources
        self.principals = statement.principals
        self.conditions = statement.conditions
        self.is_deny = statement.effect == DENY
        self.order = order
        self.matched = MatchedStatement(
            policy_id, kind, statement.index, statement.sid, statement.effect
        )
        # Whether the statement applies whenever its action and static resource match.
        self.unconditional = not self.conditions and self.principals is None
        self.keys = frozenset(self._context_keys())

    def _context_keys(self) -> set[str]:
        """The lowercased request keys that can change whether this statement applies."""
        keys = self.resources.context_keys() if self.resources is not None else set()
        for condition in self.conditions:
            keys |= condition.context_keys()
        return keys

    def applies(
        self,
        resource: str,
        context: Mapping[str, object],
        principal: Principal | None,
        missing: list[str],
    ) -> bool:
        """Whether the statement applies (its action is already known to match)."""
        if self.principals is not None and not self.principals.matches(principal):
            return False
        if self.resources is not None and not self.resources.matches(resource, context, missing):
            return False
        return self.conditions_hold(context, missing)

    def holds(
        self, context: Mapping[str, object], principal: Principal | None, missing: list[str]
    ) -> bool:
        """Whether the statement applies once its action and resource are known to match."""
        if self.principals is not None and not self.principals.matches(principal):
            return False
        conditions = self.conditions
        if len(conditions) == 1:
            return conditions[0].holds(context, missing)
        return self.conditions_hold(context, missing)

    def conditions_hold(self, context: Mapping[str, object], missing: list[str]) -> bool:
        """All conditions hold; after one fails, the keys the rest would also need are
        still reported, whatever their order."""
        conditions = self.conditions
        for position, condition in enumerate(conditions):
            if not condition.holds(context, missing):
                for later in conditions[position + 1 :]:
                    later.note_missing(context, missing)
                return False
        return True


def applying(
    entries: Iterable[tuple[Entry, int, int]],
    resource: str,
    context: Mapping[str, object],
    principal: Principal | None,
    trace: Trace,
) -> int:
    """The bits of the statements that apply among `(entry, state, bit)` triples, the
    state telling how much is already known: `APPLIES`, `RESOURCE_MATCHED` or `UNKNOWN`
    (variables to resolve)."""
    missing = trace.missing
    found = 0
    for entry, state, bit in entries:
        if state == APPLIES:
            found |= bit
            continue
        try:
            if state == RESOURCE_MATCHED:
                if not entry.holds(context, principal, missing):
                    continue
            elif not entry.applies(resource, context, principal, missing):
                continue
        except UnevaluableError:
            if entry.is_deny:
                trace.unevaluable |= bit
            continue
        found |= bit
    return found


class ActionIndex:
    """Entries filed by the actions they can match."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._exact: dict[str, list[Entry]] = defaultdict(list)
        self._by_service: dict[str, list[Entry]] = defaultdict(list)
        self._anywhere: list[Entry] = []
        for entry in entries:
            self._file(entry)

    def _file(self, entry: Entry) -> None:
        if entry.actions.services() is None:
            self._anywhere.append(entry)
            return
        for action in entry.actions.exact:
            self._exact[action].append(entry)
        wild = {p.partition(":")[0] for p in entry.actions.patterns if has_wildcard(p)}
        for service in wild:
            self._by_service[service].append(entry)

    def candidates(self, action: str) -> list[Entry]:
        """Entries whose `Action`/`NotAction` matches the lowercased `action`, in order."""
        found = {id(entry): entry for entry in self._exact.get(action, ())}
        service = action.partition(":")[0]
        for entry in (*self._by_service.get(service, ()), *self._anywhere):
            if id(entry) not in found and entry.actions.matches(action):
                found[id(entry)] = entry
        return sorted(found.values(), key=lambda entry: entry.order)
