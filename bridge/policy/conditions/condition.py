"""One compiled `{Operator: {key: values}}` entry and its evaluation against a request.

Semantics (IAM's documented logic):

* key absent (or an empty list): `...IfExists` and `ForAllValues:` are true,
  `ForAnyValue:` is false, a negated operator is true, any other is false; the
  key is reported as missing unless the operator is `IfExists` or `ForAllValues:`.
* several policy values: OR for positive operators, none may match for negated.
* a multi-valued request value without a set prefix: a positive operator is true
  when any request value matches, a negated one when no request value matches.
* `ForAnyValue:` / `ForAllValues:`: some / every request value passes the operator.
* a request value the operator cannot compare raises `UnevaluableError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bridge.policy.conditions.base import ValueTest, policy_text
from bridge.policy.conditions.registry import FOR_ALL_VALUES, FOR_ANY_VALUE, OperatorSpec
from bridge.policy.variables import (
    MissingVariableError,
    Pieces,
    Template,
    Variable,
    parse_template,
    resolve,
)

_EMPTY: Mapping[str, object] = {}


class Condition:
    """A compiled condition on one key."""

    __slots__ = (
        "is_null",
        "key",
        "lowered_key",
        "negated",
        "spec",
        "templates",
        "test",
        "values",
    )

    def __init__(self, spec: OperatorSpec, key: str, values: Sequence[object], version: str):
        if not values:
            raise ValueError("expected at least one value")
        self.spec = spec
        self.key = key
        self.lowered_key = key.lower()
        self.negated = spec.negated
        self.is_null = spec.is_null
        self.values = tuple(values)
        self.templates: tuple[Template, ...] = ()
        self.test: ValueTest | None = None
        if spec.family.variables:
            self._compile_text(version)
        else:
            self.test = spec.family.compile(spec.positive, self.values)

    def _compile_text(self, version: str) -> None:
        templates = tuple(parse_template(policy_text(value), version) for value in self.values)
        if any(isinstance(part, Variable) for template in templates for part in template):
            self.templates = templates
            return
        pieces = [resolve(template, _EMPTY) for template in templates]
        self.test = self.spec.family.compile(self.spec.positive, pieces)

    def context_keys(self) -> set[str]:
        """The lowercased request keys this condition reads (its key and its variables)."""
        keys = {self.lowered_key}
        keys.update(p.lowered_key for t in self.templates for p in t if isinstance(p, Variable))
        return keys

    def holds(self, context: Mapping[str, object], missing: list[str]) -> bool:
        """Whether the condition is true for a lowercased request context."""
        value = context.get(self.lowered_key)
        absent = value is None or (isinstance(value, list) and not value)
        if self.is_null:
            return self._static_test()(absent)
        if absent:
            return self._absent(missing)
        test = self.test
        if test is None:
            test = self._resolved_test(context, missing)
            if test is None:
                return False
        if type(value) is not list:
            return test(value) != self.negated
        return self._multi(test, value)

    def note_missing(self, context: Mapping[str, object], missing: list[str]) -> None:
        """Add to `missing` what `holds` would, without testing the value (for the
        conditions after one that failed, whose outcome no longer matters)."""
        value = context.get(self.lowered_key)
        if self.is_null:
            return
        if value is None or (isinstance(value, list) and not value):
            self._absent(missing)
            return
        try:
            for template in self.templates:
                resolve(template, context)
        except MissingVariableError as error:
            missing.append(error.key)

    def _static_test(self) -> ValueTest:
        assert self.test is not None  # noqa: S101 - families without variables compile eagerly
        return self.test

    def _absent(self, missing: list[str]) -> bool:
        spec = self.spec
        if spec.if_exists or spec.set_operator == FOR_ALL_VALUES:
            return True
        missing.append(self.key)
        if spec.set_operator == FOR_ANY_VALUE:
            return False
        return self.negated

    def _multi(self, test: ValueTest, values: list[object]) -> bool:
        passed = [test(value) != self.negated for value in values]
        operator = self.spec.set_operator
        if operator == FOR_ALL_VALUES or (operator != FOR_ANY_VALUE and self.negated):
            return all(passed)
        return any(passed)

    def _resolved_test(self, context: Mapping[str, object], missing: list[str]) -> ValueTest | None:
        resolved: list[Pieces] = []
        try:
            for template in self.templates:
                resolved.append(resolve(template, context))
        except MissingVariableError as error:
            missing.append(error.key)
            return None
        return self.spec.family.compile(self.spec.positive, resolved)
