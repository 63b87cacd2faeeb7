"""Injected time and randomness.

No step calls `datetime.now()` or `secrets` directly: services receive a `Clock`
and a `Random`, so tests can pin time over signed fixtures and make ids repeatable.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current = self.current + timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.current = when


class Random(Protocol):
    def token_bytes(self, n: int) -> bytes: ...

    def choice(self, alphabet: str) -> str: ...


class SystemRandom:
    """Cryptographically strong randomness from the `secrets` module."""

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)

    def choice(self, alphabet: str) -> str:
        return secrets.choice(alphabet)


def random_string(rng: Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))
