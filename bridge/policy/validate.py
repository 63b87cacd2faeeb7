"""`validate()`: a strict parse turned into findings, plus analyzer checks beyond syntax.

Codes (stable): the parse error's code (`invalid-policy`, `unknown-condition-operator`,
`invalid-condition-value`), `allow-with-not-action`, `allow-with-not-resource`,
`full-access`, `condition-key-never-present`, `redundant-statement`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from bridge.policy.document import LEGACY_VERSION, Policy, parse_policy
from bridge.policy.errors import PolicyError
from bridge.policy.matching import ActionMatcher, has_wildcard
from bridge.policy.model import Finding
from bridge.policy.resources import ResourceMatcher
from bridge.policy.statement import ALLOW, Statement

ERROR = "error"
WARNING = "warning"
SUGGESTION = "suggestion"
# Federation keys (`saml:sub`, `accounts.google.com:sub`) exist only while a role is assumed.
_FEDERATION_KEY = re.compile(r"^(saml:|[^:]*\.[^:]*:)", re.IGNORECASE)
_ADMIN = "admin"
_ARN_PREFIX_COLONS = 5


def validate(doc: str | Mapping[str, Any], *, kind: str = "identity") -> list[Finding]:
    """Every finding for `doc`; syntax errors become `error` findings, nothing raises."""
    try:
        policy = parse_policy(doc, strict=True, kind=kind)
    except PolicyError as error:
        return [Finding(ERROR, error.code, error.path, error.message)]
    return list(_analyze(policy, kind))


def _analyze(policy: Policy, kind: str) -> Iterator[Finding]:
    paths = _statement_paths(policy)
    for statement, path in zip(policy.statements, paths, strict=True):
        yield from _not_elements(statement, path)
        yield from _full_access(policy, statement, path)
        yield from _never_present(statement, path, kind)
    yield from _redundant(policy.statements, paths)


def _statement_paths(policy: Policy) -> list[str]:
    single = isinstance(policy.document.get("Statement"), Mapping)
    return ["Statement" if single else f"Statement[{s.index}]" for s in policy.statements]


def _not_elements(statement: Statement, path: str) -> Iterator[Finding]:
    if statement.effect != ALLOW:
        return
    if statement.not_action:
        yield Finding(
            WARNING,
            "allow-with-not-action",
            f"{path}.NotAction",
            "allow with NotAction grants every action not listed, including future ones",
        )
    if statement.not_resource:
        yield Finding(
            WARNING,
            "allow-with-not-resource",
            f"{path}.NotResource",
            "allow with NotResource grants every resource not listed",
        )


def _full_access(policy: Policy, statement: Statement, path: str) -> Iterator[Finding]:
    """`*` on `*` without conditions, unless the policy or statement is named as admin."""
    named = f"{policy.document.get('Id', '')} {statement.sid or ''}".lower()
    if statement.effect != ALLOW or statement.not_action or _ADMIN in named:
        return
    every_action = any(action in ("*", "*:*") for action in statement.action)
    every_resource = statement.resource is None or (
        not statement.not_resource and "*" in statement.resource
    )
    if every_action and every_resource and not statement.conditions:
        yield Finding(
            WARNING, "full-access", path, "grants full access: action `*` on resource `*`"
        )


def _never_present(statement: Statement, path: str, kind: str) -> Iterator[Finding]:
    if kind == "trust":
        return
    for condition in statement.conditions:
        if _FEDERATION_KEY.match(condition.key):
            yield Finding(
                WARNING,
                "condition-key-never-present",
                f"{path}.Condition.{condition.spec.name}.{condition.key}",
                f"condition key `{condition.key}` is only present in role trust policies",
            )


def _redundant(statements: tuple[Statement, ...], paths: list[str]) -> Iterator[Finding]:
    for later, statement in enumerate(statements):
        for earlier, other in enumerate(statements):
            if (
                earlier != later
                and _covers(other, statement)
                and (earlier < later or not _covers(statement, other))
            ):
                yield Finding(
                    SUGGESTION,
                    "redundant-statement",
                    paths[later],
                    f"the statement is covered by {paths[earlier]}",
                )
                break


def _covers(wide: Statement, narrow: Statement) -> bool:
    """Whether `wide` applies to every request `narrow` applies to, with the same effect."""
    plain = not (wide.conditions or narrow.conditions or wide.not_action or narrow.not_action)
    if not plain or wide.effect != narrow.effect or wide.principal != narrow.principal:
        return False
    if wide.not_principal != narrow.not_principal or wide.not_resource or narrow.not_resource:
        return False
    actions = all(any(_pattern_covers(w, n, True) for w in wide.action) for n in narrow.action)
    return actions and _resources_cover(wide.resource, narrow.resource)


def _resources_cover(wide: tuple[str, ...] | None, narrow: tuple[str, ...] | None) -> bool:
    if wide is None or narrow is None:
        return wide is None
    return all(any(_pattern_covers(w, n, False) for w in wide) for n in narrow)


def _pattern_covers(wide: str, narrow: str, action: bool) -> bool:
    """A safe approximation: equal, `*`, a literal matched by `wide`, or a `prefix*` cover."""
    if action:
        wide, narrow = wide.lower(), narrow.lower()
    if wide in ("*", narrow):
        return True
    if "${" in wide or "${" in narrow:
        return False
    if not has_wildcard(narrow):
        return _matches(wide, narrow, action)
    prefix, star, rest = wide.partition("*")
    deep = action or prefix.count(":") >= _ARN_PREFIX_COLONS
    return (
        bool(star) and not rest and deep and not has_wildcard(prefix) and narrow.startswith(prefix)
    )


def _matches(pattern: str, value: str, action: bool) -> bool:
    if action:
        return ActionMatcher([pattern], negated=False).matches(value)
    matcher = ResourceMatcher([pattern], negated=False, version=LEGACY_VERSION)
    return matcher.matches(value, {}, [])
