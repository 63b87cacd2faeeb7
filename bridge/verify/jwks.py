"""OIDC discovery, the per-issuer JWKS cache and the rules for picking a signing key.

Keys come only from `<issuer>/.well-known/openid-configuration` → `jwks_uri` of the
provider record's url (OIDC Discovery 4, OIDC Core 10.1.1), never from token headers.
JWKs are kept as plain JSON objects; `oidc.py` turns the chosen one into a key.

`JWKSCache` keeps each issuer's keys for a TTL (default 1 h; a `Cache-Control:
max-age` is honoured between `min_ttl` and `max_ttl`), fetches again at most once per
`refresh_interval` (60 s) per issuer, whatever the tokens ask for (unknown `kid`s
cannot make the bridge hammer the IdP), and when a refresh fails keeps serving the
last good keys until `stale_ttl` after they were fetched.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bridge.verify.errors import IdPCommunicationError
from bridge.verify.http import Fetcher, FetchResult, url_refusal

log = logging.getLogger("bridge.verify.jwks")
JWK = Mapping[str, Any]
Selector = Callable[[tuple[JWK, ...]], JWK | None]

MAX_KEYS = 100
ALGORITHM_KTY = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
}
EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


# --- discovery -------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedKeys:
    keys: tuple[JWK, ...]
    max_age_seconds: int | None = None  # from the JWKS response's Cache-Control


def discovery_url(issuer: str) -> str:
    """OIDC Discovery 4: a terminating `/` is removed before the well-known path."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def load_provider_keys(fetcher: Fetcher, issuer: str) -> LoadedKeys:
    """Fetch the discovery document of `issuer`, then the JWKS its `jwks_uri` names."""
    _, config = _fetch_object(fetcher, discovery_url(issuer), "discovery document")
    if config.get("issuer") != issuer:
        raise IdPCommunicationError(
            f"discovery document of `{issuer}` names issuer `{config.get('issuer')}`; "
            "OIDC Discovery 4.3 requires the same string"
        )
    jwks_uri = config.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise IdPCommunicationError(f"discovery document of `{issuer}` has no `jwks_uri` string")
    reason = url_refusal(jwks_uri)
    if reason is not None:
        raise IdPCommunicationError(f"`jwks_uri` `{jwks_uri}` of `{issuer}` is refused: {reason}")
    result, document = _fetch_object(fetcher, jwks_uri, "JWKS")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise IdPCommunicationError(f"JWKS at `{jwks_uri}` has no `keys` array")
    usable = tuple(key for key in keys if isinstance(key, dict))[:MAX_KEYS]
    return LoadedKeys(usable, cache_max_age(result.header("cache-control")))


def _fetch_object(fetcher: Fetcher, url: str, what: str) -> tuple[FetchResult, dict[str, Any]]:
    result = fetcher.fetch(url)
    if result.status != 200:
        raise IdPCommunicationError(f"{what} at `{url}` answered HTTP {result.status}, not 200")
    try:
        document = json.loads(result.body)
    except (UnicodeDecodeError, ValueError) as error:
        raise IdPCommunicationError(f"{what} at `{url}` is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise IdPCommunicationError(f"{what} at `{url}` is not a JSON object")
    return result, document


def cache_max_age(cache_control: str | None) -> int | None:
    """Seconds from `max-age`; `no-cache`/`no-store` count as 0; None when absent."""
    if not cache_control:
        return None
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-cache", "no-store"):
            return 0
        if name == "max-age" and value.strip().strip('"').isdigit():
            return int(value.strip().strip('"'))
    return None


# --- key rules -------------------------------------------------------------------


def key_unfit(jwk: JWK, alg: str) -> str | None:
    """Why `jwk` cannot check an `alg` signature (RFC 7517 4.2-4.4), or None when it can."""
    want = ALGORITHM_KTY[alg]
    if jwk.get("kty") != want:
        return f"its `kty` is `{jwk.get('kty')}`, `{alg}` needs `{want}`"
    if "alg" in jwk and jwk["alg"] != alg:
        return f"its `alg` is `{jwk['alg']}`, the token declares `{alg}`"
    if "use" in jwk and jwk["use"] != "sig":
        return f"its `use` is `{jwk['use']}`, not `sig`"
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return "its `key_ops` do not include `verify`"
    if alg in EC_CURVES and jwk.get("crv") != EC_CURVES[alg]:
        return f"its `crv` is `{jwk.get('crv')}`, `{alg}` needs `{EC_CURVES[alg]}`"
    return None


def by_kid(kid: str, alg: str) -> Selector:
    """The first key with this `kid` that fits `alg`, else the first with this `kid`."""

    def select(keys: tuple[JWK, ...]) -> JWK | None:
        named = [key for key in keys if key.get("kid") == kid]
        fit = [key for key in named if key_unfit(key, alg) is None]
        chosen = fit or named
        return chosen[0] if chosen else None

    return select


def only_fit(alg: str) -> Selector:
    """For a token without `kid`: the one key that fits `alg`, None when zero or several."""

    def select(keys: tuple[JWK, ...]) -> JWK | None:
        fit = [key for key in keys if key_unfit(key, alg) is None]
        return fit[0] if len(fit) == 1 else None

    return select


# --- cache -----------------------------------------------------------------------


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: tuple[JWK, ...] = ()
    refresh_at: datetime | None = None  # keys are due for a refresh from here
    expires_at: datetime | None = None  # keys are dropped from here
    last_attempt: datetime | None = None
    last_error: IdPCommunicationError | None = None


@dataclass(frozen=True)
class KeyLookup:
    """What the cache found: the key (or None) and when it may fetch the issuer again."""

    key: JWK | None
    attempted_at: datetime | None  # the last fetch attempt for this issuer
    next_fetch_at: datetime | None


class JWKSCache:
    """Thread-safe cache of each issuer's JWKS. One instance per app, not a module global."""

    def __init__(
        self,
        *,
        ttl: timedelta = timedelta(hours=1),
        min_ttl: timedelta = timedelta(minutes=5),
        max_ttl: timedelta = timedelta(hours=24),
        stale_ttl: timedelta = timedelta(hours=24),
        refresh_interval: timedelta = timedelta(seconds=60),
        on_refresh: Callable[[bool], None] | None = None,
    ) -> None:
        """`on_refresh(ok)` is told of every fetch of an issuer's keys (for metrics)."""
        self._ttl, self._min_ttl, self._max_ttl = ttl, min_ttl, max_ttl
        self._on_refresh = on_refresh
        self._stale_ttl = stale_ttl
        self._interval = refresh_interval
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def find(
        self, issuer: str, select: Selector, *, now: datetime, load: Callable[[], LoadedKeys]
    ) -> KeyLookup:
        """The key `select` picks from `issuer`'s keys, refreshing them when due and allowed.

        Raises `IdPCommunicationError` when no usable keys are held and fetching fails
        (or is rate limited after a failure), or when a refresh for a missing key fails.
        """
        entry = self._entry(issuer)
        with entry.lock:
            usable = entry.keys if entry.expires_at is not None and now < entry.expires_at else ()
            key = select(usable)
            due = entry.refresh_at is None or now >= entry.refresh_at
            if key is not None and not due:
                return self._lookup(entry, key)
            if not self._may_fetch(entry, now):
                if usable:
                    return self._lookup(entry, key)
                raise self._unavailable(issuer, entry)
            try:
                self._refresh(entry, now, load)
            except IdPCommunicationError as error:
                kept = "; the last good keys stay in use" if key is not None else ""
                log.warning("refreshing the keys of `%s` failed: %s%s", issuer, error.message, kept)
                if key is not None:
                    return self._lookup(entry, key)
                raise
            return self._lookup(entry, select(entry.keys))

    def _entry(self, issuer: str) -> _Entry:
        with self._lock:
            return self._entries.setdefault(issuer, _Entry())

    def _may_fetch(self, entry: _Entry, now: datetime) -> bool:
        return entry.last_attempt is None or now >= entry.last_attempt + self._interval

    def _refresh(self, entry: _Entry, now: datetime, load: Callable[[], LoadedKeys]) -> None:
        entry.last_attempt = now
        try:
            loaded = load()
        except IdPCommunicationError as error:
            entry.last_error = error
            self._told(ok=False)
            raise
        self._told(ok=True)
        entry.keys, entry.last_error = loaded.keys, None
        entry.refresh_at = now + self._ttl_for(loaded.max_age_seconds)
        entry.expires_at = max(entry.refresh_at, now + self._stale_ttl)

    def _told(self, *, ok: bool) -> None:
        if self._on_refresh is not None:
            self._on_refresh(ok)

    def _ttl_for(self, max_age_seconds: int | None) -> timedelta:
        if max_age_seconds is None:
            return self._ttl
        return min(max(timedelta(seconds=max_age_seconds), self._min_ttl), self._max_ttl)

    def _lookup(self, entry: _Entry, key: JWK | None) -> KeyLookup:
        attempt = entry.last_attempt
        return KeyLookup(key, attempt, attempt + self._interval if attempt else None)

    def _unavailable(self, issuer: str, entry: _Entry) -> IdPCommunicationError:
        cause = entry.last_error.message if entry.last_error else "no keys were fetched"
        retry = entry.last_attempt + self._interval if entry.last_attempt else None
        return IdPCommunicationError(
            f"no signing keys of `{issuer}` are available ({cause}); "
            f"the next fetch is allowed at `{retry.isoformat() if retry else 'now'}`"
        )
