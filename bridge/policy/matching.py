"""Wildcard patterns for actions, resources, `StringLike` and `ArnLike`, compiled once.

* Actions: case-insensitive, `*` and `?` match any character, colon included.
* `StringLike`: case-sensitive, `*` and `?` match any character.
* ARNs (resources, `ArnLike`): case-sensitive; in the first five colon-separated
  segments (`arn:partition:service:region:account:`) a wildcard stays within its
  segment, in the resource part it matches across `/` and `:`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bridge.policy.variables import Pieces

WILDCARDS = frozenset("*?")
_ARN_PREFIX_SEGMENTS = 5


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def glob_regex(pieces: Pieces) -> str:
    """Regex source for a glob in which `*` and `?` match any character."""
    out: list[str] = []
    for text, literal in pieces:
        if literal:
            out.append(re.escape(text))
            continue
        for char in text:
            out.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
    return "".join(out)


def arn_regex(pieces: Pieces) -> str:
    """Regex source for an ARN pattern whose prefix wildcards stay within a segment."""
    out: list[str] = []
    colons = 0
    for text, literal in pieces:
        for char in text:
            in_prefix = colons < _ARN_PREFIX_SEGMENTS
            if char == ":":
                colons += 1
            if literal or char not in WILDCARDS:
                out.append(re.escape(char))
            elif char == "*":
                out.append("[^:]*" if in_prefix else ".*")
            else:
                out.append("[^:]" if in_prefix else ".")
    return "".join(out)


def alternation(sources: Iterable[str], *, ignore_case: bool = False) -> re.Pattern[str]:
    """One compiled pattern that fully matches any of `sources`."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("|".join(f"(?:{source})" for source in sources), flags)


class ActionMatcher:
    """The `Action` or `NotAction` list of a statement."""

    __slots__ = ("exact", "negated", "patterns", "regex")

    def __init__(self, patterns: Iterable[str], *, negated: bool) -> None:
        lowered = tuple(dict.fromkeys(pattern.lower() for pattern in patterns))
        self.patterns = lowered
        self.negated = negated
        self.exact = frozenset(p for p in lowered if not has_wildcard(p))
        wild = [glob_regex(((p, False),)) for p in lowered if has_wildcard(p)]
        self.regex = alternation(wild) if wild else None

    def listed(self, action: str) -> bool:
        """Whether a lowercased action is named by one of the patterns."""
        if action in self.exact:
            return True
        return self.regex is not None and self.regex.fullmatch(action) is not None

    def matches(self, action: str) -> bool:
        return self.listed(action) != self.negated

    def services(self) -> set[str] | None:
        """Service prefixes this matcher can match, `None` when it can match any."""
        if self.negated:
            return None
        found: set[str] = set()
        for pattern in self.patterns:
            service, colon, _ = pattern.partition(":")
            if not colon or has_wildcard(service):
                return None
            found.add(service)
        return found
