from __future__ import annotations

import pytest
from directory_support import CHEAP_HASHING, SeededRandom

from bridge.directory.passwords import (
    HashingConfig,
    PasswordHashing,
    PasswordPolicy,
    check_password,
)
from bridge.errors import InvalidInput, PasswordPolicyViolation


@pytest.fixture
def hashing() -> PasswordHashing:
    return PasswordHashing(CHEAP_HASHING, SeededRandom())


def test_hash_is_argon2id_and_verifies(hashing: PasswordHashing):
    hashed = hashing.hash("correct horse")
    assert hashed.startswith("$argon2id$")
    assert hashing.verify(hashed, "correct horse")


@pytest.mark.parametrize(
    ("stored", "attempt"),
    [("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "x"), ("not a hash", "x")],
    ids=["mismatch", "corrupt-hash"],
)
def test_verify_false_on_mismatch_or_corrupt(hashing: PasswordHashing, stored: str, attempt: str):
    assert hashing.verify(stored, attempt) is False


def test_wrong_password_does_not_verify(hashing: PasswordHashing):
    assert hashing.verify(hashing.hash("right"), "wrong") is False


def test_salt_comes_from_the_injected_random():
    first = PasswordHashing(CHEAP_HASHING, SeededRandom(3)).hash("pw")
    again = PasswordHashing(CHEAP_HASHING, SeededRandom(3)).hash("pw")
    other = PasswordHashing(CHEAP_HASHING, SeededRandom(4)).hash("pw")
    assert first == again
    assert first != other


def test_needs_rehash_when_parameters_change(hashing: PasswordHashing):
    hashed = hashing.hash("pw")
    stronger = PasswordHashing(
        HashingConfig(time_cost=2, memory_cost_kib=16, parallelism=1), SeededRandom()
    )
    assert hashing.needs_rehash(hashed) is False
    assert stronger.needs_rehash(hashed) is True


@pytest.mark.parametrize(
    ("policy", "password", "unmet"),
    [
        (PasswordPolicy(), "short", ["at least 8 characters"]),
        (PasswordPolicy(minimum_length=6), "x" * 129, ["at most 128 characters"]),
        (PasswordPolicy(require_symbols=True), "abcdefgh", ["symbol"]),
        (PasswordPolicy(require_numbers=True), "abcdefgh", ["number"]),
        (PasswordPolicy(require_uppercase=True), "abcdefgh", ["uppercase"]),
        (PasswordPolicy(require_lowercase=True), "ABCDEFGH", ["lowercase"]),
        (
            PasswordPolicy(
                minimum_length=12,
                require_symbols=True,
                require_numbers=True,
                require_uppercase=True,
                require_lowercase=True,
            ),
            "abc",
            ["at least 12", "symbol", "number", "uppercase"],
        ),
    ],
    ids=["length", "too-long", "symbol", "number", "uppercase", "lowercase", "every-rule"],
)
def test_check_password_names_every_unmet_rule(
    policy: PasswordPolicy, password: str, unmet: list[str]
):
    with pytest.raises(PasswordPolicyViolation) as caught:
        check_password(policy, password)
    for rule in unmet:
        assert rule in caught.value.message
    assert caught.value.message.count(";") == len(unmet) - 1


def test_check_password_accepts_a_conforming_password():
    policy = PasswordPolicy(
        minimum_length=10,
        require_symbols=True,
        require_numbers=True,
        require_uppercase=True,
        require_lowercase=True,
    )
    check_password(policy, "Abcdef12#xyz")


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (PasswordPolicy(minimum_length=5), "minimum_length"),
        (PasswordPolicy(minimum_length=129), "minimum_length"),
        (PasswordPolicy(max_password_age=0), "max_password_age"),
        (PasswordPolicy(max_password_age=1096), "max_password_age"),
        (PasswordPolicy(password_reuse_prevention=0), "password_reuse_prevention"),
        (PasswordPolicy(password_reuse_prevention=25), "password_reuse_prevention"),
    ],
    ids=["length-5", "length-129", "age-0", "age-1096", "reuse-0", "reuse-25"],
)
def test_policy_bounds(policy: PasswordPolicy, field: str):
    with pytest.raises(InvalidInput) as caught:
        policy.validated()
    assert caught.value.field == field


def test_policy_json_round_trip_and_lenient_read():
    policy = PasswordPolicy(minimum_length=14, require_symbols=True, max_password_age=90)
    assert PasswordPolicy.from_json(policy.to_json()) == policy
    assert PasswordPolicy.from_json('{"minimum_length": 9, "future_field": 1}') == PasswordPolicy(
        minimum_length=9
    )
    assert PasswordPolicy.from_json(None) == PasswordPolicy()
