"""The `Resource` / `NotResource` element of a statement, compiled once.

Entries without variables become an exact-string set and one combined regex (and
`wild`, the wildcard patterns as written, for indexes that file them one by one);
entries with variables are resolved per request. An entry whose variable the
request does not carry never matches (its key is reported as missing); in a
`NotResource` it makes the whole statement not apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bridge.policy.matching import alternation, arn_regex, has_wildcard
from bridge.policy.variables import (
    MissingVariableError,
    Template,
    Variable,
    has_variables,
    parse_template,
    resolve,
)


class ResourceMatcher:
    """Matches a request's resource against a statement's resource patterns."""

    __slots__ = ("dynamic", "exact", "matches_all", "negated", "patterns", "regex", "wild")

    def __init__(self, patterns: Iterable[str], *, negated: bool, version: str) -> None:
        self.patterns = tuple(patterns)
        self.negated = negated
        templates = [parse_template(pattern, version) for pattern in self.patterns]
        static = [t[0] for t in templates if not has_variables(t) and isinstance(t[0], str)]
        self.dynamic: tuple[Template, ...] = tuple(t for t in templates if has_variables(t))
        star = "*" in static
        self.matches_all = star and not negated
        self.exact = frozenset(p for p in static if not has_wildcard(p))
        self.wild = tuple(dict.fromkeys(p for p in static if has_wildcard(p)))
        wild = [arn_regex(((p, False),)) for p in static if has_wildcard(p) and p != "*"]
        if star:
            wild = [".*"]
        self.regex = alternation(wild) if wild else None

    def context_keys(self) -> set[str]:
        """The lowercased request keys the variables of the patterns read."""
        return {p.lowered_key for t in self.dynamic for p in t if isinstance(p, Variable)}

    def matches(self, resource: str, context: Mapping[str, object], missing: list[str]) -> bool:
        """Whether the statement applies to `resource`; unresolved keys go to `missing`."""
        listed = resource in self.exact or (
            self.regex is not None and self.regex.fullmatch(resource) is not None
        )
        if self.dynamic and not listed:
            dynamic = self._dynamic_listed(resource, context, missing)
            if dynamic is None:
                return False
            listed = dynamic
        return listed != self.negated

    def _dynamic_listed(
        self, resource: str, context: Mapping[str, object], missing: list[str]
    ) -> bool | None:
        listed = False
        unresolved = False
        for template in self.dynamic:
            try:
                pieces = resolve(template, context)
            except MissingVariableError as error:
                missing.append(error.key)
                unresolved = True
                continue
            if re.fullmatch(arn_regex(pieces), resource, re.DOTALL) is not None:
                listed = True
        if unresolved and self.negated:
            return None
        return listed
