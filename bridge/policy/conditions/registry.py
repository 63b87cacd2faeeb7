"""Operator names -> family, with the `ForAnyValue:`/`ForAllValues:` and `IfExists` forms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge.policy.conditions.arn import ArnFamily
from bridge.policy.conditions.base import Family
from bridge.policy.conditions.binary import BinaryFamily
from bridge.policy.conditions.booleans import BoolFamily
from bridge.policy.conditions.dates import DateFamily
from bridge.policy.conditions.ip import IpFamily
from bridge.policy.conditions.null import NullFamily
from bridge.policy.conditions.numeric import NumericFamily
from bridge.policy.conditions.strings import StringFamily

SINGLE = 0
FOR_ANY_VALUE = 1
FOR_ALL_VALUES = 2
_PREFIXES = (("ForAnyValue:", FOR_ANY_VALUE), ("ForAllValues:", FOR_ALL_VALUES))
_IF_EXISTS = "IfExists"
_NULL = "Null"


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A condition operator as written, resolved to its family and modifiers."""

    name: str
    family: Family
    positive: str
    negated: bool
    if_exists: bool
    set_operator: int

    @property
    def is_null(self) -> bool:
        return self.positive == _NULL


def _families() -> tuple[Family, ...]:
    return (
        StringFamily(),
        NumericFamily(),
        DateFamily(),
        BoolFamily(),
        BinaryFamily(),
        IpFamily(),
        ArnFamily(),
        NullFamily(),
    )


def _table(families: tuple[Family, ...]) -> Mapping[str, tuple[Family, str, bool]]:
    return {
        name: (family, positive, negated)
        for family in families
        for name, (positive, negated) in family.operators().items()
    }


_OPERATORS = _table(_families())
OPERATOR_NAMES = frozenset(_OPERATORS)


def lookup(name: str) -> OperatorSpec | None:
    """The operator `name` (e.g. `ForAllValues:StringLikeIfExists`), `None` if unknown."""
    base, set_operator = name, SINGLE
    for prefix, code in _PREFIXES:
        if base.startswith(prefix):
            base, set_operator = base[len(prefix) :], code
    if_exists = base.endswith(_IF_EXISTS)
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    entry = _OPERATORS.get(base)
    if entry is None or (base == _NULL and (if_exists or set_operator != SINGLE)):
        return None
    family, positive, negated = entry
    return OperatorSpec(name, family, positive, negated, if_exists, set_operator)
