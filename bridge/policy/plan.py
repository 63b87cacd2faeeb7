"""Per-action plans: which candidate statements a resource can reach, as a bitmask.

An `ActionPlan` holds the statements whose `Action`/`NotAction` matches one action,
in evaluation order; bit `i` of a mask stands for `entries[i]`. Its `ResourceTable`
turns a resource into the mask of statements whose static `Resource`/`NotResource`
matches, with one dict lookup for the exact ARNs and one per distinct literal-prefix
length for the wildcard patterns:

* a pattern is filed under its literal prefix (the text before its first `*` or
  `?`); only the patterns whose prefix starts the resource are looked at;
* `<prefix>*` with the `*` in the ARN's resource part (after the fifth colon), and
  `*` alone, match every resource with that prefix, so they need no regex;
* other wildcard patterns keep their own compiled regex, run only behind their prefix.

Statements whose patterns hold policy variables are resolved per request (the
`dynamic` mask). The mask, not the resource, then selects a `Refined`: many
resources share a mask, so a resource never seen before usually costs the table
lookups and one dict hit. Actions with the same candidate statements (every action
an `s3:*` statement covers) share one plan and what it has learnt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from bridge.policy.compiled import APPLIES, RESOURCE_MATCHED, UNKNOWN, Entry, Trace
from bridge.policy.matching import arn_regex
from bridge.policy.memo import Memo
from bridge.policy.model import IMPLICIT_DENY, Decision, MatchedStatement

_RESOURCE_PART = 5  # colons before an ARN's resource part, where `*` crosses `:` and `/`
_REFINED_PER_PLAN = 1024
# (regex, bits) pairs checked behind one prefix
Checks = tuple[tuple[re.Pattern[str], int], ...]
# literal prefix -> (bits matched by the prefix alone, patterns that need their regex)
Buckets = dict[str, tuple[int, Checks]]
# (entry, `compiled.APPLIES`, `RESOURCE_MATCHED` or `UNKNOWN`, the entry's bit)
Group = tuple[tuple[Entry, int, int], ...]
_DECISIONS_PER_REFINED = 64
NOTHING = Decision(IMPLICIT_DENY)
# Allows by policy kind: an identity allow and a resource-policy allow count alike.
_ALLOW_SLOTS = {"identity": 1, "resource": 1, "boundary": 2, "session": 3}


class ResourceTable:
    """The entries of a plan filed by their static resource patterns."""

    __slots__ = ("anywhere", "exact", "negated", "prefixes")

    def __init__(self, entries: Sequence[Entry], regexes: dict[str, re.Pattern[str]]) -> None:
        """`regexes` memoises compiled patterns across the plans of one policy set."""
        self.anywhere = 0
        self.negated = 0
        self.exact: dict[str, int] = {}
        wild: dict[str, int] = {}
        for position, entry in enumerate(entries):
            self._file(entry, 1 << position, wild)
        self.prefixes = _buckets(wild, regexes)

    def _file(self, entry: Entry, bit: int, wild: dict[str, int]) -> None:
        resources = entry.resources
        if resources is None:
            self.anywhere |= bit
            return
        if resources.dynamic:
            return
        if resources.negated:
            self.negated |= bit
        for pattern in resources.exact:
            self.exact[pattern] = self.exact.get(pattern, 0) | bit
        for pattern in resources.wild:
            wild[pattern] = wild.get(pattern, 0) | bit

    def mask(self, resource: str) -> int:
        """Bits of the entries whose static `Resource`/`NotResource` matches `resource`."""
        listed = self.exact.get(resource, 0)
        for length, buckets in self.prefixes:
            bucket = buckets.get(resource[:length])
            if bucket is not None:
                listed |= bucket[0]
                for regex, bits in bucket[1]:
                    if regex.fullmatch(resource) is not None:
                        listed |= bits
        return self.anywhere | (listed ^ self.negated)


def _buckets(
    wild: Mapping[str, int], regexes: dict[str, re.Pattern[str]]
) -> tuple[tuple[int, Buckets], ...]:
    """Wildcard patterns grouped by the length of their literal prefix, then by prefix."""
    simple: dict[str, int] = {}
    checks: dict[str, list[tuple[re.Pattern[str], int]]] = {}
    for pattern, bits in wild.items():
        prefix = _literal_prefix(pattern)
        if pattern == "*" or (pattern == f"{prefix}*" and prefix.count(":") >= _RESOURCE_PART):
            simple[prefix] = simple.get(prefix, 0) | bits
        else:
            regex = regexes.get(pattern)
            if regex is None:
                regex = regexes[pattern] = re.compile(arn_regex(((pattern, False),)), re.DOTALL)
            checks.setdefault(prefix, []).append((regex, bits))
    by_length: dict[int, Buckets] = {}
    for prefix in {*simple, *checks}:
        bucket = (simple.get(prefix, 0), tuple(checks.get(prefix, ())))
        by_length.setdefault(len(prefix), {})[prefix] = bucket
    return tuple(sorted(by_length.items()))


def _literal_prefix(pattern: str) -> str:
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return pattern[:cut]


class ActionPlan:
    """The candidate entries of one action, their resource table and refined sets by mask."""

    __slots__ = ("conditional", "dynamic", "entries", "refined", "slots", "table")

    def __init__(self, entries: Sequence[Entry], regexes: dict[str, re.Pattern[str]]) -> None:
        self.entries = tuple(entries)
        self.table = ResourceTable(self.entries, regexes)
        self.dynamic = _bits(e.resources is not None and bool(e.resources.dynamic) for e in entries)
        self.conditional = _bits(not entry.unconditional for entry in entries)
        self.slots = tuple(_slot(entry) for entry in entries)
        self.refined: Memo[int, Refined | Decision] = Memo(_REFINED_PER_PLAN)

    def narrow(self, mask: int) -> Refined:
        """The entries of `mask` and the dynamic ones as (denies, identity and resource
        allows, boundary allows, session allows), each paired with what is known of it."""
        groups: tuple[list[tuple[Entry, int, int]], ...] = ([], [], [], [])
        keys: set[str] = set()
        selected = mask | self.dynamic
        while selected:
            lowest = selected & -selected
            selected ^= lowest
            position = lowest.bit_length() - 1
            entry = self.entries[position]
            groups[self.slots[position]].append((entry, _state(entry, mask & lowest), lowest))
            keys |= entry.keys
        denies, granting, boundary, session = groups
        static = not self.dynamic and not mask & self.conditional
        return Refined(
            self.entries,
            (tuple(denies), tuple(granting), tuple(boundary), tuple(session)),
            keys,
            dynamic=bool(self.dynamic),
            static=static,
        )


def _state(entry: Entry, resource_matched: int) -> int:
    if not resource_matched:
        return UNKNOWN
    return APPLIES if entry.unconditional else RESOURCE_MATCHED


def _bits(flags: Iterable[bool]) -> int:
    return sum(1 << position for position, flag in enumerate(flags) if flag)


def _slot(entry: Entry) -> int:
    """The group of `ActionPlan.narrow` an entry goes to."""
    if entry.is_deny:
        return 0
    return _ALLOW_SLOTS[entry.matched.policy_kind]


class Refined:
    """A plan narrowed to one resource mask.

    `keys` are the request keys that can change the decision; decisions are memoised
    by their values (and by the resource when a pattern holds policy variables:
    `dynamic`), so a repeated request costs one lookup. `static` when no entry has a
    condition, a principal or a variable: the decision is then fixed. Evaluation
    reports the statements that applied as bits; each distinct outcome builds its
    `Decision` once (at most `_DECISIONS_PER_REFINED` kept).
    """

    __slots__ = ("decisions", "dynamic", "entries", "groups", "keys", "static")

    def __init__(
        self,
        entries: tuple[Entry, ...],
        groups: tuple[Group, Group, Group, Group],
        keys: Iterable[str],
        *,
        dynamic: bool,
        static: bool,
    ) -> None:
        self.groups = groups
        self.keys = tuple(sorted(keys))
        self.dynamic = dynamic
        self.static = static
        self.entries = entries
        self.decisions: dict[tuple[str, int, int, tuple[str, ...]], Decision] = {}

    def decision(self, effect: str, found: int, trace: Trace) -> Decision:
        """The decision naming the statements of the bits `found` and what `trace` saw;
        equal outcomes share one `Decision`."""
        key = (effect, found, trace.unevaluable, tuple(trace.missing))
        decision = self.decisions.get(key)
        if decision is None:
            decision = self._build(effect, found, trace)
            if len(self.decisions) < _DECISIONS_PER_REFINED:
                self.decisions[key] = decision
        return decision

    def _build(self, effect: str, found: int, trace: Trace) -> Decision:
        missing, unevaluable = trace.missing, trace.unevaluable
        if not (found or missing or unevaluable) and effect == IMPLICIT_DENY:
            return NOTHING
        keys = tuple(sorted(set(missing)))
        return Decision(effect, self._matched(found), keys, self._matched(unevaluable))

    def _matched(self, bits: int) -> tuple[MatchedStatement, ...]:
        """The statements of `bits`, in evaluation order."""
        found: list[MatchedStatement] = []
        while bits:
            lowest = bits & -bits
            bits ^= lowest
            found.append(self.entries[lowest.bit_length() - 1].matched)
        return tuple(found)

    def values(self, context: Mapping[str, object]) -> tuple[object, ...]:
        """The request's values of `keys`, typed so that `True` and `1` differ."""
        values = tuple(map(context.get, self.keys))
        for value in values:
            if value is not None and value.__class__ is not str:
                return tuple(_frozen(context.get(key)) for key in self.keys)
        return values


class UncacheableError(Exception):
    """A context value outside the documented types: decide without the memo."""


def _frozen(value: object) -> object:
    if value is None or type(value) is str:
        return value
    if isinstance(value, list):
        return tuple((item.__class__, _frozen(item)) for item in value)
    if isinstance(value, int | float):
        return (value.__class__, value)
    raise UncacheableError
