"""Sign-in throttling: four free failures, then a lock that doubles, capped at 15 minutes."""

from __future__ import annotations

import pytest

from bridge.clock import FixedClock
from bridge.login.throttle import SignInThrottle
from bridge.storage.browser_sessions import MemoryBrowserSessions


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def throttle(clock: FixedClock) -> SignInThrottle:
    return SignInThrottle(MemoryBrowserSessions(clock), clock)


@pytest.mark.parametrize(
    ("failures", "locked_seconds"),
    [
        pytest.param(4, 0, id="four-free"),
        pytest.param(5, 30, id="fifth-locks-30s"),
        pytest.param(6, 60, id="sixth-doubles"),
        pytest.param(8, 240, id="eighth"),
        pytest.param(20, 900, id="capped-15-minutes"),
    ],
)
def test_lock_grows_with_failures(
    throttle: SignInThrottle, clock: FixedClock, failures: int, locked_seconds: int
) -> None:
    for _ in range(failures):
        throttle.failed("Alice")
    until = throttle.locked_until("alice")
    if locked_seconds == 0:
        assert until is None
    else:
        assert until is not None
        assert (until - clock.now()).total_seconds() == locked_seconds


def test_lock_ends_and_success_clears_the_count(
    throttle: SignInThrottle, clock: FixedClock
) -> None:
    for _ in range(5):
        throttle.failed("bob")
    clock.advance(31)
    assert throttle.locked_until("bob") is None
    throttle.succeeded("bob")
    assert throttle.failed("bob") == 1


def test_names_are_counted_apart(throttle: SignInThrottle) -> None:
    for _ in range(5):
        throttle.failed("carol")
    assert throttle.locked_until("dave") is None


def test_failures_are_forgotten_after_the_window(
    throttle: SignInThrottle, clock: FixedClock
) -> None:
    for _ in range(4):
        throttle.failed("erin")
    clock.advance(16 * 60)
    assert throttle.failed("erin") == 1
