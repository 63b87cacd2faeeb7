"""Password hashing (argon2id) and the account password policy.

Hashes use argon2id (RFC 9106) with parameters from `HashingConfig` and a salt
from the injected `Random`. The password policy has IAM's fields
(`UpdateAccountPasswordPolicy`) and is stored as JSON in `Account.password_policy`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from bridge.clock import Random
from bridge.errors import InvalidInput, PasswordPolicyViolation

SYMBOLS = "!@#$%^&*()_+-=[]{}|'"
MAX_PASSWORD_LENGTH = 128


@dataclass(frozen=True)
class HashingConfig:
    """argon2id cost parameters; the defaults are RFC 9106's second recommendation."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16


class PasswordHashing:
    """Hash, verify (in constant time) and tell when a hash needs the current parameters."""

    def __init__(self, config: HashingConfig, rng: Random) -> None:
        self._config = config
        self._rng = rng
        self._hasher = argon2.PasswordHasher(
            time_cost=config.time_cost,
            memory_cost=config.memory_cost_kib,
            parallelism=config.parallelism,
            hash_len=config.hash_len,
            salt_len=config.salt_len,
            type=argon2.Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password, salt=self._rng.token_bytes(self._config.salt_len))

    def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; argon2 compares the digests in constant time."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class PasswordPolicy:
    """IAM's account password policy; `PasswordPolicy()` is the default when none is set."""

    minimum_length: int = 8
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change_password: bool = False
    max_password_age: int | None = None  # days
    password_reuse_prevention: int | None = None
    hard_expiry: bool = False

    def validated(self) -> PasswordPolicy:
        _within("minimum_length", self.minimum_length, 6, 128)
        if self.max_password_age is not None:
            _within("max_password_age", self.max_password_age, 1, 1095)
        if self.password_reuse_prevention is not None:
            _within("password_reuse_prevention", self.password_reuse_prevention, 1, 24)
        return self

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> PasswordPolicy:
        """Lenient on read: unknown keys are ignored, `None` is the default policy."""
        if text is None:
            return cls()
        raw: dict[str, Any] = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in raw.items() if key in known})


def _within(field: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise InvalidInput(field, f"`{value}` must be between {low} and {high}")


def unmet_rules(policy: PasswordPolicy, password: str) -> list[str]:
    """Every rule of `policy` that `password` breaks, in a stable order."""
    checks = [
        (len(password) >= policy.minimum_length,
         f"must be at least {policy.minimum_length} characters long"),
        (len(password) <= MAX_PASSWORD_LENGTH,
         f"must be at most {MAX_PASSWORD_LENGTH} characters long"),
        (not policy.require_symbols or any(c in SYMBOLS for c in password),
         f"must contain a symbol ({SYMBOLS})"),
        (not policy.require_numbers or any(c.isdigit() for c in password),
         "must contain a number"),
        (not policy.require_uppercase or any(c.isupper() for c in password),
         "must contain an uppercase letter"),
        (not policy.require_lowercase or any(c.islower() for c in password),
         "must contain a lowercase letter"),
    ]  # fmt: skip
    return [message for ok, message in checks if not ok]


def check_password(policy: PasswordPolicy, password: str) -> None:
    """Raise `PasswordPolicyViolation` naming every unmet rule of the password policy."""
    unmet = unmet_rules(policy, password)
    if unmet:
        raise PasswordPolicyViolation(
            "password does not conform to the account password policy: " + "; ".join(unmet)
        )
