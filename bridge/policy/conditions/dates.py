"""Date operators: `DateEquals`, `DateLessThan`... over ISO 8601 times or epoch seconds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from bridge.policy.conditions.base import UnevaluableError, ValueTest
from bridge.policy.conditions.compare import ordered_test
from bridge.policy.conditions.numeric import parse_number

_OPERATORS = {
    "DateEquals": ("DateEquals", False),
    "DateNotEquals": ("DateEquals", True),
    "DateLessThan": ("DateLessThan", False),
    "DateLessThanEquals": ("DateLessThanEquals", False),
    "DateGreaterThan": ("DateGreaterThan", False),
    "DateGreaterThanEquals": ("DateGreaterThanEquals", False),
}


def parse_date(value: object) -> float:
    """An ISO 8601 date or time (UTC when no offset) or epoch seconds, as epoch seconds."""
    if isinstance(value, str) and not _numeric(value):
        return _iso_date(value.strip(), value)
    try:
        return parse_number(value)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date or epoch seconds, got `{value!r}`") from None


def _iso_date(text: str, value: str) -> float:
    """Epoch seconds of the ISO 8601 date or time `text` (`value` stripped)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date or epoch seconds, got `{value}`") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _numeric(text: str) -> bool:
    return text.strip().lstrip("-").replace(".", "", 1).isdigit()


def _request_date(value: object) -> float:
    if type(value) is str:
        text = value.strip()
        # `2026-05-01...`: an ISO date (epoch seconds have no `-` after a digit)
        if text[4:5] == "-" and text[:4].isdigit():
            try:
                return _iso_date(text, value)
            except ValueError as error:
                raise UnevaluableError(str(error)) from None
    try:
        return parse_date(value)
    except ValueError as error:
        raise UnevaluableError(str(error)) from None


class DateFamily:
    variables = False

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, operator: str, values: Sequence[object], /) -> ValueTest:
        moments = [parse_date(value) for value in values]
        return ordered_test(operator.removeprefix("Date"), moments, _request_date)
