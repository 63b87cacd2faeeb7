"""The decision cache: keyed by token hash, action, resource and context; bounded LRU;
entries expire at max age or at the session's expiration, whichever comes first."""

from __future__ import annotations

import hashlib
import threading

import pytest

from bridge.client.cache import DecisionCache, cache_key


class Clock:
    """A settable wall clock (epoch seconds)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_key_hashes_the_token_and_canonicalises_the_context() -> None:
    key = cache_key("BRG1.secret", "items:Get", "arn:x", {"b": ["2"], "a": "1"})
    assert key[0] == hashlib.sha256(b"BRG1.secret").hexdigest()
    assert "BRG1.secret" not in repr(key)
    assert key == cache_key("BRG1.secret", "items:Get", "arn:x", {"a": "1", "b": ["2"]})


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(("BRG1.other", "items:Get", "arn:x", None), id="token"),
        pytest.param(("BRG1.secret", "items:Put", "arn:x", None), id="action"),
        pytest.param(("BRG1.secret", "items:Get", "arn:y", None), id="resource"),
        pytest.param(("BRG1.secret", "items:Get", "arn:x", {"k": "v"}), id="context"),
    ],
)
def test_key_differs_when_any_part_differs(other: tuple[str, str, str, dict[str, str]]) -> None:
    assert cache_key("BRG1.secret", "items:Get", "arn:x", None) != cache_key(*other)


@pytest.mark.parametrize(
    ("max_age", "expires_in", "alive_at", "dead_at"),
    [
        pytest.param(1.0, None, 0.99, 1.0, id="max-age"),
        pytest.param(1.0, 0.4, 0.39, 0.4, id="session-expires-first"),
        pytest.param(1.0, 5.0, 0.99, 1.0, id="session-expires-later"),
    ],
)
def test_entry_expires_at_the_earlier_deadline(
    max_age: float, expires_in: float | None, alive_at: float, dead_at: float
) -> None:
    clock = Clock()
    cache: DecisionCache[str] = DecisionCache(10, max_age, clock=clock)
    start = clock.now
    key = cache_key("t", "a", "r", None)
    cache.put(key, "allowed", expires_at=None if expires_in is None else start + expires_in)
    clock.now = start + alive_at
    assert cache.get(key) == "allowed"
    clock.now = start + dead_at
    assert cache.get(key) is None
    assert len(cache) == 0


def test_an_already_expired_session_is_not_stored() -> None:
    clock = Clock()
    cache: DecisionCache[str] = DecisionCache(10, 1.0, clock=clock)
    cache.put(cache_key("t", "a", "r", None), "allowed", expires_at=clock.now - 1)
    assert len(cache) == 0


def test_least_recently_used_entry_goes_first() -> None:
    cache: DecisionCache[int] = DecisionCache(2, 60.0, clock=Clock())
    first, second, third = (cache_key(str(n), "a", "r", None) for n in range(3))
    cache.put(first, 1)
    cache.put(second, 2)
    assert cache.get(first) == 1  # `second` is now the least recently used
    cache.put(third, 3)
    assert (cache.get(first), cache.get(second), cache.get(third)) == (1, None, 3)
    assert len(cache) == 2


@pytest.mark.parametrize(
    ("size", "age"), [pytest.param(0, 1.0, id="size-0"), pytest.param(10, 0.0, id="age-0")]
)
def test_zero_size_or_age_turns_the_cache_off(size: int, age: float) -> None:
    cache: DecisionCache[int] = DecisionCache(size, age, clock=Clock())
    cache.put(cache_key("t", "a", "r", None), 1)
    assert not cache.enabled and len(cache) == 0


def test_negative_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        DecisionCache(-1, 1.0)


def test_concurrent_use_keeps_the_bound() -> None:
    cache: DecisionCache[int] = DecisionCache(50, 60.0, clock=Clock())

    def work(offset: int) -> None:
        for n in range(500):
            key = cache_key(f"{offset}-{n}", "a", "r", None)
            cache.put(key, n)
            cache.get(key)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 50
