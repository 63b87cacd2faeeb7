"""Templates over claims and captured groups: `{email}`, `$1-developer`, `${10}`, `$$`.

`{name}` is the first value of the claim `name` (claim names may be URIs, so any text
without braces); `$N` / `${N}` is the N-th group captured by a `regex` condition; `$$`
is a literal `$`. A template is parsed once when the rules load, so a malformed one is
a configuration fault, never a sign-in failure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bridge.mapping.claims import Claims

_TOKEN = re.compile(r"\$\$|\$\{(\d+)\}|\$(\d)|\{([^{}]+)\}|[{}$]")


class TemplateError(ValueError):
    """The template text is malformed; the message says where."""


class MissingValue(LookupError):
    """A claim or capture the template names has no value for this sign-in."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class Part:
    kind: str  # "text" | "claim" | "capture"
    value: str  # the text, the claim name, or the capture number as digits


@dataclass(frozen=True)
class Template:
    source: str
    parts: tuple[Part, ...]

    @property
    def captures(self) -> tuple[int, ...]:
        """The capture numbers the template uses."""
        return tuple(int(part.value) for part in self.parts if part.kind == "capture")

    @property
    def claims(self) -> tuple[str, ...]:
        return tuple(part.value for part in self.parts if part.kind == "claim")

    def render(self, claims: Claims, captures: Sequence[str] = ()) -> str:
        """The text for one sign-in; raises `MissingValue` naming what had no value."""
        out = []
        for part in self.parts:
            if part.kind == "text":
                out.append(part.value)
            elif part.kind == "claim":
                values = claims.get(part.value)
                if not values:
                    raise MissingValue(f"claim `{part.value}`")
                out.append(values[0])
            else:
                index = int(part.value)
                if index > len(captures):
                    raise MissingValue(f"capture `${index}`")
                out.append(captures[index - 1])
        return "".join(out)

    def sample(self, filler: str = "x") -> str:
        """The template with every claim and capture replaced by `filler` (for validation)."""
        return "".join(part.value if part.kind == "text" else filler for part in self.parts)


def parse_template(source: str) -> Template:
    """Parse `source`; raise `TemplateError` at the first malformed piece."""
    parts: list[Part] = []
    position = 0
    for match in _TOKEN.finditer(source):
        if match.start() > position:
            parts.append(Part("text", source[position : match.start()]))
        parts.append(_part(match, source))
        position = match.end()
    if position < len(source):
        parts.append(Part("text", source[position:]))
    return Template(source, tuple(parts))


def _part(match: re.Match[str], source: str) -> Part:
    text = match.group(0)
    if text == "$$":
        return Part("text", "$")
    number = match.group(1) or match.group(2)
    if number is not None:
        if int(number) == 0:
            raise TemplateError(f"`$0` at position {match.start()}: captures are numbered from 1")
        return Part("capture", str(int(number)))
    name = (match.group(3) or "").strip()
    if name:
        return Part("claim", name)
    raise TemplateError(
        f"`{text}` at position {match.start()} of `{source}` is not part of `{{claim}}`, "
        "`$N` or `$$`"
    )
