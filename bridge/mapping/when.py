"""Conditions of a mapping rule (`when:`): their parsed form and their parser.

`{claim: C, OP: V}` with OP one of equals, one_of, glob, regex, contains,
email_domain, present; `{all: [...]}`, `{any: [...]}`, `{not: {...}}`. Faults are
collected as (key path, message), e.g. `mapping.rules[2].when.any[0].regex`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Fault = tuple[str, str]
LEAF_OPERATORS = ("equals", "one_of", "glob", "regex", "contains", "email_domain", "present")
COMBINATORS = ("all", "any", "not")


@dataclass(frozen=True)
class Leaf:
    path: str
    claim: str
    operator: str
    operands: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None  # regex and glob, compiled
    present: bool = True

    @property
    def groups(self) -> int:
        return self.pattern.groups if self.operator == "regex" and self.pattern else 0


@dataclass(frozen=True)
class Combination:
    path: str
    kind: str  # all | any | not
    items: tuple[Condition, ...]

    @property
    def groups(self) -> int:
        counts = [item.groups for item in self.items]
        if self.kind == "all":
            return sum(counts)
        return max(counts, default=0) if self.kind == "any" else 0


Condition = Leaf | Combination


def unknown_keys(
    raw: Mapping[Any, Any], known: set[str] | frozenset[str], path: str, faults: list[Fault]
) -> None:
    for key in raw:
        if key not in known:
            faults.append((f"{path}.{key}", "unknown key"))


def regex(value: object, path: str, faults: list[Fault]) -> re.Pattern[str] | None:
    if not isinstance(value, str) or not value:
        faults.append((path, "expected a regular expression as a non-empty string"))
        return None
    try:
        return re.compile(value)
    except re.error as exc:
        faults.append((path, f"`{value}` is not a valid regular expression: {exc}"))
        return None


def string(value: object, path: str, faults: list[Fault]) -> str | None:
    if isinstance(value, str) and value:
        return value
    faults.append((path, f"expected a non-empty string, got `{value}`"))
    return None


def strings(value: object, path: str, faults: list[Fault]) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        faults.append((path, "expected a string or a non-empty list of strings"))
        return ()
    good = [string(item, f"{path}[{i}]", faults) for i, item in enumerate(items)]
    return tuple(item for item in good if item is not None)


def parse_condition(raw: object, path: str, faults: list[Fault]) -> Condition | None:
    if not isinstance(raw, Mapping) or not raw:
        faults.append((path, "expected a condition: `{claim: C, OP: V}`, `all`, `any` or `not`"))
        return None
    kinds = [key for key in COMBINATORS if key in raw]
    if kinds:
        if len(raw) != 1:
            faults.append((path, f"`{kinds[0]}` must be the only key of its condition"))
            return None
        return _combination(kinds[0], raw[kinds[0]], f"{path}.{kinds[0]}", faults)
    return _leaf(raw, path, faults)


def _combination(kind: str, value: object, path: str, faults: list[Fault]) -> Condition | None:
    if kind == "not":
        inner = parse_condition(value, path, faults)
        return None if inner is None else Combination(path, kind, (inner,))
    if not isinstance(value, list) or not value:
        faults.append((path, "expected a non-empty list of conditions"))
        return None
    items = [parse_condition(item, f"{path}[{i}]", faults) for i, item in enumerate(value)]
    if any(item is None for item in items):
        return None
    return Combination(path, kind, tuple(item for item in items if item is not None))


def _leaf(raw: Mapping[Any, Any], path: str, faults: list[Fault]) -> Leaf | None:
    unknown_keys(raw, {"claim", *LEAF_OPERATORS}, path, faults)
    claim = string(raw.get("claim"), f"{path}.claim", faults)
    operators = [key for key in LEAF_OPERATORS if key in raw]
    if len(operators) != 1:
        listed = ", ".join(LEAF_OPERATORS)
        faults.append((path, f"expected exactly one operator of {listed}; got {len(operators)}"))
        return None
    operator = operators[0]
    value, where = raw[operator], f"{path}.{operator}"
    if claim is None:
        return None
    if operator == "present":
        if not isinstance(value, bool):
            faults.append((where, f"expected true or false, got `{value}`"))
            return None
        return Leaf(path, claim, operator, present=value)
    return _operand_leaf(path, claim, operator, value, faults)


def _operand_leaf(
    path: str, claim: str, operator: str, value: object, faults: list[Fault]
) -> Leaf | None:
    where = f"{path}.{operator}"
    if operator in {"one_of", "email_domain"}:
        operands = strings(value, where, faults)
    else:
        single = string(value, where, faults)
        operands = (single,) if single is not None else ()
    if not operands:
        return None
    pattern = None
    if operator == "regex":
        pattern = regex(operands[0], where, faults)
        if pattern is None:
            return None
    elif operator == "glob":
        pattern = re.compile(fnmatch.translate(operands[0]))
    elif operator == "email_domain":
        operands = tuple(domain.lower().lstrip("@") for domain in operands)
    return Leaf(path, claim, operator, operands, pattern)
