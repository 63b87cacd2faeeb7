"""`Memo`: bounded, O(1) eviction a generation at a time, entries in use survive."""

from __future__ import annotations

import pytest

from bridge.policy.memo import Memo


def test_a_memo_never_holds_more_than_its_limit() -> None:
    memo: Memo[int, str] = Memo(8)
    for key in range(100):
        memo.put(key, str(key))
        assert len(memo) <= 8
    assert memo.get(99) == "99"
    assert memo.get(0) is None


def test_entries_in_use_survive_the_turnover_of_one_off_keys() -> None:
    memo: Memo[str, int] = Memo(8)
    memo.put("hot", 1)
    for key in range(40):
        memo.put(f"cold-{key}", key)
        assert memo.get("hot") == 1
    assert memo.get("cold-0") is None


def test_revive_moves_an_older_entry_back_to_recent() -> None:
    memo: Memo[str, int] = Memo(4)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("c", 3)  # "a" and "b" become the older generation
    assert "a" not in memo.recent
    assert memo.revive("a") == 1
    assert memo.recent["a"] == 1
    assert memo.revive("missing") is None


def test_putting_a_key_already_recent_does_not_turn_generations_over() -> None:
    memo: Memo[str, int] = Memo(4)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("b", 3)
    assert (memo.recent, memo.older) == ({"a": 1, "b": 3}, {})


@pytest.mark.parametrize("limit", [0, 1, -5], ids=["zero", "one", "negative"])
def test_a_limit_below_two_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match=f"invalid memo limit `{limit}`"):
        Memo(limit)
