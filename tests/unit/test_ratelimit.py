"""Rate limits: fixed one-minute windows per key, in this process or in a real Redis
shared by instances; a Redis outage lets requests through (fail open), counted."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bridge.clock import FixedClock
from bridge.errors import Throttled
from bridge.observability import Metrics
from bridge.ratelimit import (
    MemoryWindowCounter,
    RateLimiter,
    check_signin_rate,
    check_sts_rate,
    unsigned_sts_provider,
)
from bridge.services import Services, build_services
from bridge.settings import load_settings
from bridge.storage.memory import MemoryStore
from bridge.storage.redis_ratelimit import RedisWindowCounter
from tests.conftest import service_unavailable

REDIS_URL = os.environ.get("BRIDGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEAD_REDIS = "redis://127.0.0.1:1/0"
SAML_PROVIDER = "arn:aws:iam::123456789012:saml-provider/corp"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A prefix of its own in the real Redis; its keys are deleted at the end."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        service_unavailable("Redis", str(exc))
    prefix = f"bridge:test:rate:{secrets.token_hex(6)}:"
    yield prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


def _over_limit(limiter: RateLimiter, scope: str, key: str, limit: int) -> int:
    """Requests allowed before the first `Throttled`."""
    for allowed in range(limit + 5):
        try:
            limiter.check(scope, key, limit)
        except Throttled:
            return allowed
    return limit + 5


def test_memory_limit_allows_the_limit_then_throttles_until_the_next_window(
    clock: FixedClock,
) -> None:
    limiter = RateLimiter(MemoryWindowCounter(), clock)
    assert _over_limit(limiter, "sts", "192.0.2.1", 3) == 3
    with pytest.raises(Throttled) as raised:
        limiter.check("sts", "192.0.2.1", 3)
    assert 1 <= raised.value.retry_after <= 60
    assert raised.value.message == "rate exceeded: more than 3 requests in 60 s for `sts`"
    clock.advance(60)
    limiter.check("sts", "192.0.2.1", 3)


@pytest.mark.parametrize(
    ("scope", "key"),
    [
        pytest.param("sts", "192.0.2.2", id="another-address"),
        pytest.param("signin", "192.0.2.1", id="another-scope"),
    ],
)
def test_keys_and_scopes_are_counted_apart(clock: FixedClock, scope: str, key: str) -> None:
    limiter = RateLimiter(MemoryWindowCounter(), clock)
    assert _over_limit(limiter, "sts", "192.0.2.1", 2) == 2
    limiter.check(scope, key, 2)


def test_throttling_is_reported_by_scope(clock: FixedClock) -> None:
    metrics = Metrics()
    limiter = RateLimiter(MemoryWindowCounter(), clock, on_throttled=metrics.throttled)
    _over_limit(limiter, "provider", SAML_PROVIDER, 1)
    assert metrics.registry.get_sample_value("bridge_rate_limited_total", {"scope": "provider"})


def test_memory_counter_is_bounded_and_drops_old_windows() -> None:
    counter = MemoryWindowCounter(max_keys=3)
    for n in range(10):
        counter.increment(f"k{n}", 7, 120)
    assert len(counter) == 3
    assert counter.increment("k9", 7, 120) == 2  # the newest keys stay
    counter.increment("k0", 8, 120)
    assert len(counter) == 1


def test_memory_counter_is_exact_under_threads() -> None:
    counter = MemoryWindowCounter()
    counts: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(200):
            found = counter.increment("shared", 1, 120)
            with lock:
                counts.append(found)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 1601))


@pytest.mark.redis
def test_redis_counts_are_shared_by_instances(clock: FixedClock, redis_prefix: str) -> None:
    counters = [RedisWindowCounter(REDIS_URL, prefix=redis_prefix) for _ in range(2)]
    first, second = (RateLimiter(c, clock) for c in counters)
    try:
        for _ in range(2):
            first.check("sts", "192.0.2.1", 4)
            second.check("sts", "192.0.2.1", 4)
        with pytest.raises(Throttled):
            second.check("sts", "192.0.2.1", 4)
        clock.advance(60)
        first.check("sts", "192.0.2.1", 4)
    finally:
        for counter in counters:
            counter.close()


@pytest.mark.redis
def test_redis_window_keys_expire_and_hold_no_client_input(redis_prefix: str) -> None:
    counter = RedisWindowCounter(REDIS_URL, prefix=redis_prefix)
    limiter = RateLimiter(counter, FixedClock())
    client = redis.Redis.from_url(REDIS_URL)
    try:
        limiter.check("provider", "https://idp.example/" + "x" * 3000, 10)
        (key,) = list(client.scan_iter(match=redis_prefix + "*"))
        assert 60 < client.ttl(key) <= 120
        assert len(key) < len(redis_prefix) + 60
        assert b"idp.example" not in key
    finally:
        client.close()
        counter.close()


def test_unreachable_redis_fails_open_logged_and_counted(
    clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    counter = RedisWindowCounter(DEAD_REDIS, timeout=0.5)
    limiter = RateLimiter(counter, clock, on_error=metrics.rate_limiter_error)
    try:
        with caplog.at_level(logging.WARNING, logger="bridge.ratelimit"):
            for _ in range(3):
                limiter.check("sts", "192.0.2.1", 1)  # over the limit, yet allowed
    finally:
        counter.close()
    assert metrics.registry.get_sample_value("bridge_rate_limiter_errors_total") == 3.0
    assert "rate limit `sts` not checked, request allowed: redis unavailable" in caplog.text


def _jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize(
    ("action", "params", "expected"),
    [
        pytest.param(
            "AssumeRoleWithSAML", {"PrincipalArn": SAML_PROVIDER}, SAML_PROVIDER, id="saml"
        ),
        pytest.param(
            "AssumeRoleWithWebIdentity",
            {"WebIdentityToken": _jwt({"iss": "https://idp.example"})},
            "https://idp.example",
            id="web-identity-iss",
        ),
        pytest.param(
            "AssumeRoleWithWebIdentity", {"WebIdentityToken": "not-a-jwt"}, None, id="garbage"
        ),
        pytest.param(
            "AssumeRoleWithWebIdentity",
            {"WebIdentityToken": _jwt({"sub": "x"})},
            None,
            id="no-iss",
        ),
        pytest.param("GetCallerIdentity", {}, None, id="signed-action"),
    ],
)
def test_provider_named_by_an_unsigned_request(
    action: str, params: dict[str, str], expected: str | None
) -> None:
    assert unsigned_sts_provider(action, params) == expected


@pytest.fixture
def services(tmp_path: Path) -> Services:
    overrides = {
        "rate_limit_signin_per_minute": 2,
        "rate_limit_sts_per_minute": 3,
        "rate_limit_provider_per_minute": 4,
    }
    settings = load_settings(tmp_path, environ={}, overrides=overrides)
    return build_services(settings, clock=FixedClock(), store=MemoryStore(), master_key=bytes(32))


def test_sign_in_pages_are_limited_per_address(services: Services) -> None:
    for _ in range(2):
        check_signin_rate(services, "192.0.2.9")
    with pytest.raises(Throttled):
        check_signin_rate(services, "192.0.2.9")
    check_signin_rate(services, "192.0.2.10")


def test_unsigned_sts_is_limited_per_address_then_per_provider(services: Services) -> None:
    saml = {"PrincipalArn": SAML_PROVIDER}
    for _ in range(3):
        check_sts_rate(services, "192.0.2.1", "AssumeRoleWithSAML", saml)
    with pytest.raises(Throttled) as per_address:
        check_sts_rate(services, "192.0.2.1", "AssumeRoleWithSAML", saml)
    assert "`sts`" in per_address.value.message
    check_sts_rate(services, "192.0.2.2", "AssumeRoleWithSAML", saml)  # provider: 4 of 4
    with pytest.raises(Throttled) as per_provider:
        check_sts_rate(services, "192.0.2.3", "AssumeRoleWithSAML", saml)
    assert "`provider`" in per_provider.value.message


def test_signed_sts_actions_are_not_limited(services: Services) -> None:
    for _ in range(10):
        check_sts_rate(services, "192.0.2.1", "GetCallerIdentity", {})


@pytest.mark.redis
def test_redis_stops_counting_at_the_first_key_over_its_limit(
    clock: FixedClock, redis_prefix: str
) -> None:
    """The address is counted first; past its limit the provider is not counted, so one
    client cannot spend a provider's budget (same in Redis as in memory)."""
    limiter = RateLimiter(RedisWindowCounter(REDIS_URL, prefix=redis_prefix), clock)
    for _ in range(2):
        limiter.check_all([("sts", "a", 2), ("provider", "p", 3)])
    for _ in range(5):
        with pytest.raises(Throttled, match="`sts`"):
            limiter.check_all([("sts", "a", 2), ("provider", "p", 3)])
    limiter.check_all([("sts", "b", 2), ("provider", "p", 3)])  # provider: 3 of 3
    with pytest.raises(Throttled, match="`provider`"):
        limiter.check_all([("sts", "c", 2), ("provider", "p", 3)])
