"""Evaluate one rule's condition against the claims, explaining the outcome.

Each evaluation returns an `Outcome`: whether it held, why (in words an administrator
reads in the trace), and the bindings of captured groups it yields (one empty binding
when it captures nothing). Values of claims that look like secrets are never echoed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product

from bridge.mapping.claims import Claims
from bridge.mapping.trace import is_secret_claim
from bridge.mapping.when import Condition, Leaf

Binding = tuple[str, ...]
NO_CAPTURE: tuple[Binding, ...] = ((),)
MAX_BINDINGS = 256  # a rule never yields more bindings than this
SHOWN_VALUES = 5
HELD = {
    "equals": "equals",
    "contains": "contains",
    "one_of": "is one of",
    "glob": "matches",
    "email_domain": "has email domain",
}
FAILED = {
    "equals": "none equals",
    "contains": "does not contain",
    "one_of": "none is one of",
    "glob": "none matches",
    "email_domain": "none has email domain",
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    why: str
    bindings: tuple[Binding, ...] = NO_CAPTURE


def evaluate(condition: Condition, claims: Claims) -> Outcome:
    if isinstance(condition, Leaf):
        return _leaf(condition, claims)
    if condition.kind == "not":
        inner = evaluate(condition.items[0], claims)
        return Outcome(not inner.ok, f"not ({inner.why})")
    parts = [evaluate(item, claims) for item in condition.items]
    if condition.kind == "all":
        return _all(parts)
    return _any(parts)


def _all(parts: list[Outcome]) -> Outcome:
    failed = [part for part in parts if not part.ok]
    if failed:
        return Outcome(False, "; ".join(part.why for part in failed), ())
    combined = [
        tuple(x for b in combo for x in b) for combo in product(*(p.bindings for p in parts))
    ]
    return Outcome(True, " and ".join(part.why for part in parts), _unique(combined))


def _any(parts: list[Outcome]) -> Outcome:
    held = [part for part in parts if part.ok]
    if not held:
        return Outcome(False, "none held: " + "; ".join(part.why for part in parts), ())
    bindings = [binding for part in held for binding in part.bindings]
    return Outcome(True, " or ".join(part.why for part in held), _unique(bindings))


def _unique(bindings: Iterable[Binding]) -> tuple[Binding, ...]:
    return tuple(dict.fromkeys(bindings))[:MAX_BINDINGS]


def _leaf(leaf: Leaf, claims: Claims) -> Outcome:
    values = claims.get(leaf.claim)
    name = f"`{leaf.claim}`"
    if leaf.operator == "present":
        held = bool(values) == leaf.present
        state = "is present" if values else "is absent or empty"
        return Outcome(held, f"{name} {state}")
    if not values:
        return Outcome(False, f"{name} is absent or empty", ())
    shown = _show(leaf.claim, values)
    if leaf.operator == "regex":
        return _regex(leaf, values, name, shown)
    operands = ", ".join(f"`{item}`" for item in leaf.operands)
    if any(_holds(leaf, value) for value in values):
        return Outcome(True, f"{name} {HELD[leaf.operator]} {operands}")
    return Outcome(False, f"{name} is {shown}: {FAILED[leaf.operator]} {operands}", ())


def _holds(leaf: Leaf, value: str) -> bool:
    if leaf.operator in {"equals", "contains", "one_of"}:
        return value in leaf.operands
    if leaf.operator == "glob":
        return leaf.pattern is not None and leaf.pattern.fullmatch(value) is not None
    if leaf.operator == "email_domain":
        _, at, domain = value.rpartition("@")
        return bool(at) and domain.lower() in leaf.operands
    return False


def _regex(leaf: Leaf, values: tuple[str, ...], name: str, shown: str) -> Outcome:
    bindings = []
    for value in values:
        match = leaf.pattern.fullmatch(value) if leaf.pattern is not None else None
        if match is not None:
            bindings.append(tuple(group or "" for group in match.groups()))
    pattern = leaf.operands[0]
    if not bindings:
        return Outcome(False, f"{name} is {shown}: none matches `{pattern}`", ())
    return Outcome(True, f"{name} matches `{pattern}` {len(bindings)} time(s)", _unique(bindings))


def _show(claim: str, values: tuple[str, ...]) -> str:
    if is_secret_claim(claim):
        return "`***`"
    listed = ", ".join(f"`{value}`" for value in values[:SHOWN_VALUES])
    more = len(values) - SHOWN_VALUES
    return f"[{listed}{f' and {more} more' if more > 0 else ''}]"
