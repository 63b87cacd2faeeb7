"""Run the mapping rules on one identity's claims: candidate roles and the trace of why.

Mapping proposes, the role's trust policy disposes: a `Candidate` is only a proposal,
checked afterwards against the role's trust policy by the caller (`federate.py`, or
`bridge mapping test`), which records the outcome in the trace.

Against a multi-valued claim a condition holds when any value matches. A `regex`
condition yields one binding of captured groups per matching value, and each binding
yields its own roles (`team-a`, `team-b` with `^team-(.*)$` → `a-developer`,
`b-developer`). Under `all` the bindings of the parts combine, their groups numbered in
order; under `any` the bindings of every part that held are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.mapping.claims import Claims, claims_from_identity, claims_from_json
from bridge.mapping.conditions import Outcome, evaluate
from bridge.mapping.rules import MappingRules, Rule, valid_role
from bridge.mapping.templates import MissingValue, Template
from bridge.mapping.trace import RuleEntry, Trace, summarise

__all__ = [
    "Candidate",
    "MappingResult",
    "claims_from_identity",
    "claims_from_json",
    "filter_groups",
    "map_identity",
]

SESSION_NAME_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-"
)
MAX_TAG_VALUE = 256


@dataclass(frozen=True)
class Candidate:
    role: str  # a role name, or a full role ARN
    rule_id: str
    session_name: str
    tags: tuple[tuple[str, str], ...] = ()
    duration_seconds: int | None = None
    source_identity: str | None = None

    @property
    def role_name(self) -> str:
        """The role's name (the last segment of an ARN)."""
        return self.role.rsplit("/", 1)[-1]

    def role_arn(self, account_id: str) -> str:
        """The role's ARN; a bare name is taken as a role at path `/`."""
        if self.role.startswith("arn:"):
            return self.role
        return f"arn:aws:iam::{account_id}:role/{self.role}"


@dataclass(frozen=True)
class MappingResult:
    candidates: tuple[Candidate, ...]
    trace: Trace

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(candidate.role for candidate in self.candidates)


def map_identity(rules: MappingRules, provider: str, claims: Claims) -> MappingResult:
    """Every rule, in order, against `claims` signed in through `provider`."""
    filtered = filter_groups(rules, claims)
    entries: list[RuleEntry] = []
    candidates: dict[str, Candidate] = {}
    for rule in rules.rules:
        if not rule.applies_to(provider):
            names = ", ".join(rule.providers)
            entries.append(RuleEntry(rule.id, False, f"the rule is for provider(s) {names}"))
            continue
        outcome = evaluate(rule.when, filtered)
        if not outcome.ok:
            entries.append(RuleEntry(rule.id, False, outcome.why))
            continue
        made, notes = rule_candidates(rule, outcome, filtered)
        fresh = [c for c in made if c.role not in candidates]
        notes += [f"`{c.role}` already proposed by an earlier rule" for c in made if c not in fresh]
        candidates.update((c.role, c) for c in fresh)
        why = "; ".join([outcome.why, *notes])
        entries.append(RuleEntry(rule.id, True, why, tuple(c.role for c in made)))
    trace = Trace(
        provider=provider,
        identity=summarise(filtered, len(claims.groups)),
        rules=tuple(entries),
        candidates=tuple(candidates),
    )
    return MappingResult(tuple(candidates.values()), trace)


def filter_groups(rules: MappingRules, claims: Claims) -> Claims:
    """The claims with only the groups the allowlist (`group_filter`, full match) keeps."""
    if rules.group_filter is None:
        return claims
    pattern = rules.group_filter
    return claims.with_groups(tuple(g for g in claims.groups if pattern.fullmatch(g)))


def rule_candidates(
    rule: Rule, outcome: Outcome, claims: Claims
) -> tuple[list[Candidate], list[str]]:
    """One candidate per role per binding of captured groups; notes say what was skipped."""
    made: dict[str, Candidate] = {}
    notes: list[str] = []
    for captures in outcome.bindings:
        for template in rule.roles:
            role = _render(template, claims, captures, notes, "role")
            if role is None:
                continue
            if not valid_role(role):
                notes.append(f"`{role}` is not a valid role name, skipped")
                continue
            if role not in made:
                made[role] = _candidate(rule, role, claims, captures, notes)
    return list(made.values()), notes


def _candidate(
    rule: Rule, role: str, claims: Claims, captures: tuple[str, ...], notes: list[str]
) -> Candidate:
    tags = []
    for key, template in rule.tags:
        value = _render(template, claims, captures, notes, f"tag `{key}`")
        if value is not None:
            tags.append((key, value[:MAX_TAG_VALUE]))
    source = None
    if rule.source_identity is not None:
        source = _render(rule.source_identity, claims, captures, notes, "source identity")
    return Candidate(
        role=role,
        rule_id=rule.id,
        session_name=_session_name(rule, claims, captures, notes),
        tags=tuple(tags),
        duration_seconds=rule.duration_seconds,
        source_identity=source,
    )


def _session_name(rule: Rule, claims: Claims, captures: tuple[str, ...], notes: list[str]) -> str:
    """The rendered template (default: the subject), characters STS refuses as `-`,
    at most 64; the subject when the template has no value."""
    text = None
    if rule.session_name is not None:
        text = _render(rule.session_name, claims, captures, notes, "session name")
    cleaned = "".join(ch if ch in SESSION_NAME_CHARS else "-" for ch in (text or claims.subject))
    cleaned = cleaned[:64]
    return cleaned if len(cleaned) >= 2 else f"{cleaned}--"[:2]


def _render(
    template: Template, claims: Claims, captures: tuple[str, ...], notes: list[str], what: str
) -> str | None:
    try:
        return template.render(claims, captures)
    except MissingValue as exc:
        notes.append(f"{what} `{template.source}`: {exc.what} has no value, skipped")
        return None
