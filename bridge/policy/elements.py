"""Parsing of the elements of one statement, with the JSON path of every fault.

`strict` adds the checks we apply to documents we write (shapes of actions and
ARNs, known principal types, `Sid` characters); both modes reject what cannot be
evaluated safely. The caller decides what a lenient failure means for the policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.policy.conditions import Condition, lookup
from bridge.policy.errors import PolicyError, type_name
from bridge.policy.principals import is_account_id
from bridge.policy.variables import invalid_references

_ACTION = re.compile(r"^[a-z0-9-]+:[^\s:]+$", re.IGNORECASE)
_PRINCIPAL_TYPES = ("AWS", "Federated", "Service", "CanonicalUser")
_ARN_PARTS = 6


def strings(value: object, path: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    """A string or a list of strings."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        raise PolicyError(path, f"expected a string or an array of strings, got {type_name(value)}")
    for position, item in enumerate(value):
        if not isinstance(item, str):
            raise PolicyError(f"{path}[{position}]", f"expected a string, got {type_name(item)}")
    if not value and not allow_empty:
        raise PolicyError(path, "expected at least one value")
    return tuple(value)


def check_action(action: str, path: str) -> None:
    if action != "*" and _ACTION.match(action) is None:
        raise PolicyError(path, f"invalid action `{action}`, expected `*` or `service:Action`")


def check_resource(resource: str, path: str) -> None:
    if resource != "*" and not _is_arn(resource):
        raise PolicyError(
            path, f"invalid resource `{resource}`, expected `*` or an ARN with six parts"
        )
    check_variables(resource, path)


def check_variables(text: str, path: str) -> None:
    for reference in invalid_references(text):
        raise PolicyError(path, f"invalid policy variable `{reference}`")


def _is_arn(text: str) -> bool:
    return text.startswith("arn:") and len(text.split(":", _ARN_PARTS - 1)) == _ARN_PARTS


def principal(value: object, path: str, *, strict: bool) -> Mapping[str, tuple[str, ...]]:
    """`"*"` or `{"AWS": ..., "Federated": ..., "Service": ..., "CanonicalUser": ...}`."""
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, Mapping):
        raise PolicyError(path, f"expected `*` or an object, got {type_name(value)}")
    parsed: dict[str, tuple[str, ...]] = {}
    for name, entries in value.items():
        if name not in _PRINCIPAL_TYPES:
            if strict:
                expected = ", ".join(_PRINCIPAL_TYPES)
                raise PolicyError(f"{path}.{name}", f"unknown principal type, expected {expected}")
            continue
        parsed[name] = strings(entries, f"{path}.{name}")
        if strict and name == "AWS":
            _check_aws_principals(parsed[name], f"{path}.{name}")
    if not parsed:
        raise PolicyError(path, "expected at least one principal")
    return parsed


def _check_aws_principals(values: Sequence[str], path: str) -> None:
    for position, value in enumerate(values):
        if value != "*" and not is_account_id(value) and not _is_arn(value):
            where = f"{path}[{position}]" if len(values) > 1 else path
            raise PolicyError(
                where, f"invalid principal `{value}`, expected `*`, an account id or an ARN"
            )


def conditions(value: object, path: str, version: str) -> tuple[Condition, ...]:
    """`{Operator: {key: value-or-values}}`; every operator must be known."""
    if not isinstance(value, Mapping):
        raise PolicyError(path, f"expected an object, got {type_name(value)}")
    compiled: list[Condition] = []
    for operator, block in value.items():
        compiled.extend(_operator_block(operator, block, f"{path}.{operator}", version))
    return tuple(compiled)


def _operator_block(operator: str, block: object, path: str, version: str) -> list[Condition]:
    spec = lookup(operator)
    if spec is None:
        raise PolicyError(
            path, f"unknown condition operator `{operator}`", code="unknown-condition-operator"
        )
    if not isinstance(block, Mapping) or not block:
        raise PolicyError(path, f"expected an object of condition keys, got {type_name(block)}")
    compiled: list[Condition] = []
    for key, raw in block.items():
        values = _condition_values(raw, f"{path}.{key}")
        try:
            compiled.append(Condition(spec, key, values, version))
        except ValueError as error:
            raise PolicyError(f"{path}.{key}", str(error), code="invalid-condition-value") from None
    return compiled


def _condition_values(raw: object, path: str) -> list[Any]:
    values = raw if isinstance(raw, list) else [raw]
    for position, item in enumerate(values):
        if not isinstance(item, str | int | float | bool):
            where = f"{path}[{position}]" if isinstance(raw, list) else path
            raise PolicyError(where, f"expected a string, number or boolean, got {type_name(item)}")
    return values
