"""Rule examples: claims a rule is shown with and the roles it must yield for them.

`bridge config validate` runs every example and reports one that fails as a fault
naming the rule and the example's index, e.g. `mapping.rules[0].examples[1]`. An
example is run through its own rule alone (with the group filter), so adding a rule
never breaks another rule's examples; `roles: []` says the rule must not match.
"""

from __future__ import annotations

from bridge.mapping.engine import map_identity
from bridge.mapping.rules import Example, Fault, MappingRules, Rule

EXAMPLE_PROVIDER = "example"  # the provider an example of a `*` rule signs in through


def check_examples(rules: MappingRules, prefix: str = "mapping") -> list[Fault]:
    """Every example that does not yield exactly its roles, as (key, message)."""
    faults: list[Fault] = []
    for rule in rules.rules:
        for index, example in enumerate(rule.examples):
            message = example_fault(rules, rule, example)
            if message is not None:
                faults.append((f"{prefix}.rules[{rule.index}].examples[{index}]", message))
    return faults


def example_fault(rules: MappingRules, rule: Rule, example: Example) -> str | None:
    """Why the example fails, or None when the rule yields exactly its roles."""
    provider = example.provider or _provider(rule)
    alone = MappingRules((rule,), rules.group_filter)
    result = map_identity(alone, provider, example.claims)
    got, wanted = sorted(set(result.roles)), sorted(set(example.roles))
    if got == wanted:
        return None
    why = result.trace.rules[0].why if result.trace.rules else "no rule ran"
    return (
        f"rule `{rule.id}` yields {_list(got)} for provider `{provider}` but the example "
        f"expects {_list(wanted)} ({why})"
    )


def _provider(rule: Rule) -> str:
    named = [name for name in rule.providers if name != "*"]
    return named[0] if named else EXAMPLE_PROVIDER


def _list(roles: list[str]) -> str:
    return "[" + ", ".join(f"`{role}`" for role in roles) + "]" if roles else "no role"
