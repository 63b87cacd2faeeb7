"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}`.

A template is a tuple of parts: a plain `str` (wildcards stay active), a
`Literal` (text produced by an escape, never a wildcard) or a `Variable`.
Resolving a template against a request context yields `Pieces`: text with a flag
telling whether its `*` and `?` are literal. Substituted values are literal, so a
tag value cannot widen a pattern. Only version 2012-10-17 substitutes variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

VARIABLES_VERSION = "2012-10-17"
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_INNER = re.compile(r"^\s*([^\s,'{}$]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Literal:
    text: str


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    lowered_key: str
    default: str | None


Part = str | Literal | Variable
Template = tuple[Part, ...]
Pieces = tuple[tuple[str, bool], ...]


class MissingVariableError(Exception):
    """A variable whose key the request does not carry (or carries as a list)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_template(text: str, version: str) -> Template:
    """Split `text` into parts; without variables (or in 2008-10-17) it is `(text,)`."""
    if version != VARIABLES_VERSION or "${" not in text:
        return (text,)
    parts: list[Part] = []
    position = 0
    for reference in _REFERENCE.finditer(text):
        if reference.start() > position:
            parts.append(text[position : reference.start()])
        parts.append(_parse_reference(reference.group(0), reference.group(1)))
        position = reference.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def _parse_reference(whole: str, inner: str) -> Part:
    if inner in _ESCAPES:
        return Literal(_ESCAPES[inner])
    match = _INNER.match(inner)
    if match is None:
        return whole
    default = match.group(2)
    key = match.group(1)
    return Variable(key, key.lower(), None if default is None else default.replace("''", "'"))


def invalid_references(text: str) -> list[str]:
    """References that are neither an escape nor a well-formed variable."""
    found = (reference.group(0) for reference in _REFERENCE.finditer(text))
    return [whole for whole in found if _parse_reference(whole, whole[2:-1]) == whole]


def has_variables(template: Template) -> bool:
    return len(template) != 1 or not isinstance(template[0], str)


def resolve(template: Template, context: Mapping[str, object]) -> Pieces:
    """Substitute the variables of `template` from a lowercased context."""
    pieces: list[tuple[str, bool]] = []
    for part in template:
        if isinstance(part, str):
            pieces.append((part, False))
        elif isinstance(part, Literal):
            pieces.append((part.text, True))
        else:
            pieces.append((_variable_value(part, context), True))
    return tuple(pieces)


def _variable_value(variable: Variable, context: Mapping[str, object]) -> str:
    value = context.get(variable.lowered_key)
    text = scalar_text(value)
    if text is not None:
        return text
    if variable.default is not None:
        return variable.default
    raise MissingVariableError(variable.key)


def scalar_text(value: object) -> str | None:
    """The string form of a single context value, `None` for absent or multi-valued."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def joined(pieces: Pieces) -> str:
    return "".join(text for text, _ in pieces)
