"""The one exception of the policy engine.

`PolicyError` is standalone (not from `bridge.errors`) so that the engine can be
used as a library without the rest of the project.
"""

from __future__ import annotations


class PolicyError(Exception):
    """A policy document that cannot be parsed, with the JSON path of the fault.

    `path` is a JSON path such as `Statement[2].Condition.StringLike` (`""` for the
    document root); `code` is a stable kebab-case name used by `validate()`.
    """

    def __init__(self, path: str, message: str, *, code: str = "invalid-policy") -> None:
        self.path = path
        self.message = message
        self.code = code
        super().__init__(f"{path}: {message}" if path else message)


def type_name(value: object) -> str:
    """The JSON name of a Python value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
