"""Condition operators: one module per family behind the `Family` protocol."""

from bridge.policy.conditions.base import Family, UnevaluableError, ValueTest
from bridge.policy.conditions.condition import Condition
from bridge.policy.conditions.registry import OPERATOR_NAMES, OperatorSpec, lookup

__all__ = [
    "OPERATOR_NAMES",
    "Condition",
    "Family",
    "OperatorSpec",
    "UnevaluableError",
    "ValueTest",
    "lookup",
]
