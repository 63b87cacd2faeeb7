"""Rate limits on the sign-in pages and the unsigned STS actions.

Fixed windows of one minute, counted per key: the client address (`signin`, `sts`) and
the identity provider a request names (`provider`: the SAML provider ARN or the OIDC
issuer). The counts live in Redis when `redis_url` is set (every instance shares them),
else in this process (thread-safe and bounded).

A rate limit protects capacity, it is not a security check: when Redis cannot be asked
the request is allowed (fail OPEN), logged and counted in
`bridge_rate_limiter_errors_total`. One-time use, which is a security check, fails closed.

The provider key is read before the request is verified (that is the point: to spare
the verifier and the IdP), so a client can spend a provider's budget by naming it; the
per-address limit is checked first and bounds that.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from bridge.clock import Clock
from bridge.errors import BridgeError, StorageUnavailable, Throttled

if TYPE_CHECKING:
    from bridge.services import Services
    from bridge.settings import Settings

WINDOW_SECONDS = 60
MAX_MEMORY_KEYS = 100_000
UNSIGNED_STS_ACTIONS = frozenset({"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"})

log = logging.getLogger("bridge.ratelimit")


class WindowCounter(Protocol):
    def increment(self, key: str, window: int, ttl_seconds: int) -> int:
        """Add one to `key` in `window` and return the count so far in that window."""
        ...

    def increment_until(
        self, keys: list[str], limits: list[int], window: int, ttl_seconds: int
    ) -> int | None:
        """Count each key in turn and stop at the first past its limit (its index is
        returned; later keys are not counted); None when none is. One round trip where
        the store allows."""
        ...


class MemoryWindowCounter:
    """Counts of the newest window only (older windows are dropped when a newer one
    starts), at most `max_keys` of them: past that the least recently counted go."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        self._max_keys = max_keys
        self._window = -1
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def increment(self, key: str, window: int, ttl_seconds: int) -> int:  # noqa: ARG002
        with self._lock:
            if window > self._window:
                self._window = window
                self._counts.clear()
            elif window < self._window:
                return 1  # a request from a window already over (clock stepped back)
            count = self._counts.pop(key, 0) + 1
            self._counts[key] = count
            while len(self._counts) > self._max_keys:
                self._counts.popitem(last=False)
            return count

    def increment_until(
        self, keys: list[str], limits: list[int], window: int, ttl_seconds: int
    ) -> int | None:
        for index, (key, limit) in enumerate(zip(keys, limits, strict=True)):
            if self.increment(key, window, ttl_seconds) > limit:
                return index
        return None

    def __len__(self) -> int:
        return len(self._counts)


class RateLimiter:
    def __init__(
        self,
        counter: WindowCounter,
        clock: Clock,
        *,
        window_seconds: int = WINDOW_SECONDS,
        on_throttled: Callable[[str], None] | None = None,
        on_error: Callable[[], None] | None = None,
    ) -> None:
        self._counter = counter
        self._clock = clock
        self._window = window_seconds
        self._on_throttled = on_throttled
        self._on_error = on_error

    def check(self, scope: str, key: str, limit: int) -> None:
        """Count one request of `key` in `scope`; raise `Throttled` past `limit` a window."""
        self.check_all([(scope, key, limit)])

    def check_all(self, limits: list[tuple[str, str, int]]) -> None:
        """Count one request against each (scope, key, limit) in turn, in one round trip;
        raise `Throttled` for the first past its limit. Later keys are then not counted,
        so a client over its own limit cannot spend a provider's budget."""
        now = self._clock.now().timestamp()
        window = int(now // self._window)
        keys = [_counter_key(scope, key) for scope, key, _ in limits]
        try:
            over = self._counter.increment_until(
                keys, [limit for _, _, limit in limits], window, 2 * self._window
            )
        except StorageUnavailable as exc:
            scope = ", ".join(scope for scope, _, _ in limits)
            log.warning("rate limit `%s` not checked, request allowed: %s", scope, exc.message)
            if self._on_error is not None:
                self._on_error()
            return
        if over is not None:
            scope, _, limit = limits[over]
            self._throttled(scope, limit, window, now)

    def _throttled(self, scope: str, limit: int, window: int, now: float) -> None:
        if self._on_throttled is not None:
            self._on_throttled(scope)
        retry_after = max(1, math.ceil((window + 1) * self._window - now))
        raise Throttled(
            f"rate exceeded: more than {limit} requests in {self._window} s for `{scope}`",
            retry_after,
        )


def _counter_key(scope: str, key: str) -> str:
    """`scope:<digest>`: bounded length whatever the client sent, and no raw input in Redis."""
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    return f"{scope}:{digest}"


def make_rate_limiter(
    settings: Settings,
    clock: Clock,
    *,
    on_throttled: Callable[[str], None] | None = None,
    on_error: Callable[[], None] | None = None,
) -> RateLimiter:
    """Redis counters when `redis_url` is set, else counters in this process."""
    counter: WindowCounter
    if settings.redis_url:
        from bridge.storage.redis_ratelimit import RedisWindowCounter

        counter = RedisWindowCounter(settings.redis_url)
    else:
        counter = MemoryWindowCounter()
    return RateLimiter(counter, clock, on_throttled=on_throttled, on_error=on_error)


def check_signin_rate(services: Services, address: str | None, provider: str | None = None) -> None:
    """For the sign-in pages: raise `Throttled` when `address` (or `provider`) is over its
    limit (`rate_limit_signin_per_minute`, `rate_limit_provider_per_minute`)."""
    settings = services.settings
    limits = [("signin", address or "unknown", settings.rate_limit_signin_per_minute)]
    if provider:
        limits.append(("provider", provider, settings.rate_limit_provider_per_minute))
    services.rate_limiter.check_all(limits)


def check_sts_rate(
    services: Services, address: str | None, action: str, params: Mapping[str, str]
) -> None:
    """For the unsigned STS actions, before anything is verified: per client address
    (`rate_limit_sts_per_minute`) and per provider named in the request, in one round trip."""
    if action not in UNSIGNED_STS_ACTIONS:
        return
    settings = services.settings
    limits = [("sts", address or "unknown", settings.rate_limit_sts_per_minute)]
    provider = unsigned_sts_provider(action, params)
    if provider:
        limits.append(("provider", provider, settings.rate_limit_provider_per_minute))
    services.rate_limiter.check_all(limits)


def unsigned_sts_provider(action: str, params: Mapping[str, str]) -> str | None:
    """The provider an unsigned STS request names (unverified): `PrincipalArn` for SAML,
    the token's `iss` for web identity; None when there is none to read."""
    if action == "AssumeRoleWithSAML":
        return params.get("PrincipalArn") or None
    token = params.get("WebIdentityToken")
    if action != "AssumeRoleWithWebIdentity" or not token:
        return None
    from bridge.verify.oidc import decode_segment

    try:
        issuer = decode_segment(token.strip(), 1, "payload").get("iss")
    except BridgeError:
        return None
    return issuer if isinstance(issuer, str) and issuer else None
