"""Mapping rules from the `mapping:` section of `bridge.yaml`, parsed and validated once.

```yaml
mapping:
  group_filter: "^(staff|admins|team-.*)$"   # optional allowlist, applied to groups first
  rules:
    - id: teams
      providers: ["*"]                      # or `provider: corp-okta`; "*" = any provider
      when: {claim: groups, regex: "^team-(.*)$"}
      roles: ["$1-developer"]               # role names or role ARNs, templates allowed
      session_name: "{email}"               # default: the subject
      tags: {Team: "$1"}
      duration_seconds: 3600                # 900..43200
      examples:
        - claims: {groups: [team-a]}
          roles: [a-developer]
```

Conditions: `{claim: C, OP: V}` with OP one of equals, one_of, glob, regex (a full
match; its groups feed `$1`..), contains (exact membership), email_domain, present
(true/false); and `{all: [...]}`, `{any: [...]}`, `{not: {...}}`. Parsing reports every
fault at once as (key path, message), e.g. `mapping.rules[2].when.any[0].regex`.
Nothing here touches Flask, the database or the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bridge.errors import ConfigError, InvalidInput
from bridge.mapping.claims import Claims, claims_from_json
from bridge.mapping.templates import Template, TemplateError, parse_template
from bridge.mapping.when import (
    Combination,
    Condition,
    Fault,
    Leaf,
    parse_condition,
    regex,
    string,
    strings,
    unknown_keys,
)

__all__ = ["Combination", "Condition", "Fault", "Leaf", "MappingRules", "Rule", "parse_rules"]

RULE_KEYS = frozenset(
    {"id", "provider", "providers", "when", "roles", "session_name", "tags"}
    | {"duration_seconds", "source_identity", "examples", "description"}
)
MIN_DURATION, MAX_DURATION = 900, 43200
ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
ROLE_ARN = re.compile(r"arn:aws:iam::\d{12}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}", re.ASCII)
TAG_KEY = re.compile(r"[\w.:/=+\-@ ]{1,128}")
RULE_ID = re.compile(r"[\w.:-]{1,64}", re.ASCII)
PROVIDER = re.compile(r"\*|[\w._-]{1,128}", re.ASCII)


@dataclass(frozen=True)
class Example:
    claims: Claims
    roles: tuple[str, ...]
    provider: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    index: int
    providers: tuple[str, ...]
    when: Condition
    roles: tuple[Template, ...]
    session_name: Template | None = None
    tags: tuple[tuple[str, Template], ...] = ()
    duration_seconds: int | None = None
    source_identity: Template | None = None
    examples: tuple[Example, ...] = ()

    def applies_to(self, provider: str) -> bool:
        return "*" in self.providers or provider in self.providers


@dataclass(frozen=True)
class MappingRules:
    rules: tuple[Rule, ...] = ()
    group_filter: re.Pattern[str] | None = None

    def for_provider(self, provider: str) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.applies_to(provider))

    def has_rules_for(self, provider: str) -> bool:
        """True when at least one rule names `provider` (or `*`)."""
        return bool(self.for_provider(provider))


EMPTY_RULES = MappingRules()


def parse_rules(raw: object, prefix: str = "mapping") -> tuple[MappingRules, list[Fault]]:
    """The rules and every fault found; the rules are only meaningful when there is none."""
    faults: list[Fault] = []
    if raw is None:
        return EMPTY_RULES, faults
    if not isinstance(raw, Mapping):
        return EMPTY_RULES, [(prefix, f"expected a mapping, got {type(raw).__name__}")]
    unknown_keys(raw, {"group_filter", "rules"}, prefix, faults)
    group_filter = _group_filter(raw.get("group_filter"), f"{prefix}.group_filter", faults)
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        faults.append((f"{prefix}.rules", "expected a list of rules"))
        rules_raw = []
    rules = [_rule(item, i, f"{prefix}.rules[{i}]", faults) for i, item in enumerate(rules_raw)]
    _duplicate_ids(rules_raw, prefix, faults)
    return MappingRules(tuple(r for r in rules if r is not None), group_filter), faults


def load_rules(raw: object, prefix: str = "mapping") -> MappingRules:
    """`parse_rules`, raising `ConfigError` with every fault when there is one."""
    rules, faults = parse_rules(raw, prefix)
    if faults:
        raise ConfigError(faults)
    return rules


def _group_filter(value: object, path: str, faults: list[Fault]) -> re.Pattern[str] | None:
    if value is None:
        return None
    return regex(value, path, faults)


def _rule(raw: object, index: int, path: str, faults: list[Fault]) -> Rule | None:
    if not isinstance(raw, Mapping):
        faults.append((path, "expected a mapping with `id`, `providers`, `when` and `roles`"))
        return None
    before = len(faults)
    unknown_keys(raw, RULE_KEYS, path, faults)
    rule_id = _rule_id(raw.get("id"), f"{path}.id", faults)
    providers = _providers(raw, path, faults)
    when = parse_condition(raw.get("when"), f"{path}.when", faults)
    groups = when.groups if when is not None else 0
    roles = _roles(raw.get("roles"), f"{path}.roles", groups, faults)
    session_name = _optional_template(
        raw.get("session_name"), f"{path}.session_name", groups, faults
    )
    source_identity = _optional_template(
        raw.get("source_identity"), f"{path}.source_identity", groups, faults
    )
    tags = _tags(raw.get("tags"), f"{path}.tags", groups, faults)
    duration = _duration(raw.get("duration_seconds"), f"{path}.duration_seconds", faults)
    examples = _examples(raw.get("examples"), f"{path}.examples", faults)
    if len(faults) > before or rule_id is None or when is None:
        return None
    return Rule(
        rule_id,
        index,
        providers,
        when,
        roles,
        session_name,
        tags,
        duration,
        source_identity,
        examples,
    )


def _rule_id(value: object, path: str, faults: list[Fault]) -> str | None:
    text = string(value, path, faults)
    if text is not None and RULE_ID.fullmatch(text) is None:
        faults.append((path, f"`{text}` must be 1 to 64 of letters, digits, `.`, `_`, `:`, `-`"))
        return None
    return text


def _providers(raw: Mapping[Any, Any], path: str, faults: list[Fault]) -> tuple[str, ...]:
    if "provider" in raw and "providers" in raw:
        faults.append((f"{path}.providers", "give either `provider` or `providers`, not both"))
        return ()
    key = "provider" if "provider" in raw else "providers"
    if key not in raw:
        faults.append((f"{path}.providers", "missing: name the providers the rule is for, or `*`"))
        return ()
    names = strings(raw[key], f"{path}.{key}", faults)
    for i, name in enumerate(names):
        if PROVIDER.fullmatch(name) is None:
            faults.append((f"{path}.{key}[{i}]", f"`{name}` is not a provider name or `*`"))
    return names


def _template(value: object, path: str, groups: int, faults: list[Fault]) -> Template | None:
    text = string(value, path, faults)
    if text is None:
        return None
    try:
        template = parse_template(text)
    except TemplateError as exc:
        faults.append((path, f"bad template: {exc}"))
        return None
    beyond = [n for n in template.captures if n > groups]
    if beyond:
        faults.append(
            (path, f"`{text}` uses `${beyond[0]}` but the conditions capture {groups} group(s)")
        )
        return None
    return template


def _optional_template(
    value: object, path: str, groups: int, faults: list[Fault]
) -> Template | None:
    return None if value is None else _template(value, path, groups, faults)


def _roles(value: object, path: str, groups: int, faults: list[Fault]) -> tuple[Template, ...]:
    if value is None or value == []:
        faults.append((path, "empty: a rule must yield at least one role"))
        return ()
    names = strings(value, path, faults)
    roles = []
    for i, name in enumerate(names):
        template = _template(name, f"{path}[{i}]", groups, faults)
        if template is None:
            continue
        if not valid_role(template.sample()):
            faults.append(
                (f"{path}[{i}]", f"`{name}` is not a role name ([\\w+=,.@-]{{1,64}}) or role ARN")
            )
            continue
        roles.append(template)
    return tuple(roles)


def valid_role(text: str) -> bool:
    """A role name as IAM allows it, or a role ARN."""
    pattern = ROLE_ARN if text.startswith("arn:") else ROLE_NAME
    return pattern.fullmatch(text) is not None


def _tags(
    value: object, path: str, groups: int, faults: list[Fault]
) -> tuple[tuple[str, Template], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        faults.append((path, "expected a mapping of tag key → template"))
        return ()
    tags = []
    for key, raw in value.items():
        if not isinstance(key, str) or TAG_KEY.fullmatch(key) is None:
            faults.append((f"{path}.{key}", f"`{key}` is not a valid tag key (1-128 characters)"))
            continue
        template = _template(raw, f"{path}.{key}", groups, faults)
        if template is not None:
            tags.append((key, template))
    if len({key.lower() for key, _ in tags}) != len(tags):
        faults.append((path, "tag keys must be unique, ignoring case"))
    return tuple(tags)


def _duration(value: object, path: str, faults: list[Fault]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        faults.append((path, f"expected a whole number of seconds, got `{value}`"))
        return None
    if not MIN_DURATION <= value <= MAX_DURATION:
        faults.append((path, f"`{value}` must be from {MIN_DURATION} to {MAX_DURATION}"))
        return None
    return value


def _examples(value: object, path: str, faults: list[Fault]) -> tuple[Example, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        faults.append((path, "expected a list of `{claims: {...}, roles: [...]}`"))
        return ()
    examples = [_example(item, f"{path}[{i}]", faults) for i, item in enumerate(value)]
    return tuple(example for example in examples if example is not None)


def _example(raw: object, path: str, faults: list[Fault]) -> Example | None:
    if not isinstance(raw, Mapping):
        faults.append((path, "expected `{claims: {...}, roles: [...]}`"))
        return None
    unknown_keys(raw, {"claims", "roles", "provider"}, path, faults)
    try:
        claims = claims_from_json(raw.get("claims"), f"{path}.claims")
    except InvalidInput as exc:
        faults.append((exc.field, exc.detail))
        return None
    roles = raw.get("roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        faults.append((f"{path}.roles", "expected a list of role names (empty: no role)"))
        return None
    provider = raw.get("provider")
    if provider is not None and not isinstance(provider, str):
        faults.append((f"{path}.provider", "expected a provider name"))
        return None
    return Example(claims, tuple(roles), provider)


def _duplicate_ids(rules_raw: list[Any], prefix: str, faults: list[Fault]) -> None:
    seen: dict[str, int] = {}
    for index, raw in enumerate(rules_raw):
        rule_id = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(rule_id, str):
            continue
        if rule_id in seen:
            where = f"{prefix}.rules[{index}].id"
            faults.append((where, f"`{rule_id}` is also the id of rules[{seen[rule_id]}]"))
        else:
            seen[rule_id] = index
