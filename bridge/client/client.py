"""`AuthorizeClient`: ask the bridge's `POST /v1/authorize` whether a caller may act.

The service signs its own call with its IAM credentials (SigV4, signing service
`bridge`); the caller is passed as received (`SigV4Caller`) or as a bearer session
token (`BearerCaller`). Decisions for bearer callers are cached briefly (`cache.py`
explains why SigV4 callers never are). Every failure to get a decision raises
`BridgeError`, so a caller of this client can only fail closed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bridge.client.cache import Clock, DecisionCache, cache_key
from bridge.client.models import (
    BearerCaller,
    BridgeRefused,
    BridgeUnavailable,
    Caller,
    Check,
    Context,
    Decision,
    decision_from_json,
)
from bridge.client.sigv4 import Credentials, sign

AUTHORIZE_PATH = "/v1/authorize"
MAX_BATCH = 100
_REFUSED = (400, 401, 403, 404, 405, 413, 415)


class AuthorizeClient:
    """`url`: the bridge's base URL (`https://bridge.internal`); the credentials are the
    service's own. `cache_max_age` (seconds) defaults to 1 s, the bridge's revocation
    propagation time; `cache_size` 0 or `cache_max_age` 0 turns the cache off."""

    def __init__(
        self,
        url: str,
        *,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        region: str = "us-east-1",
        timeout: float = 2.0,
        cache_size: int = 10_000,
        cache_max_age: float = 1.0,
        clock: Clock = time.time,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"bridge url `{url}` must be an absolute http or https url")
        self._endpoint = url.rstrip("/") + AUTHORIZE_PATH
        self._credentials = Credentials(access_key_id, secret_access_key, session_token)
        self._region = region
        self._timeout = timeout
        self._clock = clock
        self.cache: DecisionCache[Decision] = DecisionCache(cache_size, cache_max_age, clock=clock)

    def __repr__(self) -> str:
        return f"AuthorizeClient({self._endpoint!r}, {self._credentials!r})"

    def authorize(
        self, caller: Caller, action: str, resource: str, context: Context | None = None
    ) -> Decision:
        """The decision for one action on one resource; raises `BridgeError` when none."""
        return self.authorize_many(caller, [Check(action, resource, context)])[0]

    def authorize_many(self, caller: Caller, requests: Sequence[Check]) -> list[Decision]:
        """Decisions in the order of `requests` (sent in batches of at most 100)."""
        if not requests:
            return []
        found: dict[int, Decision] = {}
        if isinstance(caller, BearerCaller):
            for index, check in enumerate(requests):
                cached = self.cache.get(_key(caller, check))
                if cached is not None:
                    found[index] = cached
        missing = [index for index in range(len(requests)) if index not in found]
        for start in range(0, len(missing), MAX_BATCH):
            chunk = missing[start : start + MAX_BATCH]
            answers = self._ask(caller, [requests[index] for index in chunk])
            for index, decision in zip(chunk, answers, strict=True):
                found[index] = decision
                self._remember(caller, requests[index], decision)
        return [found[index] for index in range(len(requests))]

    def _remember(self, caller: Caller, check: Check, decision: Decision) -> None:
        if not isinstance(caller, BearerCaller):
            return  # a signature can only be checked by the bridge: see cache.py
        principal = decision.principal
        expires = principal.expiration if principal is not None else None
        self.cache.put(
            _key(caller, check), decision, expires_at=expires.timestamp() if expires else None
        )

    def _ask(self, caller: Caller, checks: Sequence[Check]) -> list[Decision]:
        body: dict[str, Any] = {"caller": caller.to_json()}
        if len(checks) == 1:
            body.update(checks[0].to_json())
        else:
            body["requests"] = [check.to_json() for check in checks]
        reply = self._post(body)
        try:
            items = reply["results"] if len(checks) > 1 else [reply]
            if len(items) != len(checks):
                raise ValueError(f"{len(items)} results for {len(checks)} requests")
            return [
                decision_from_json(item, reply, check)
                for item, check in zip(items, checks, strict=True)
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise BridgeUnavailable(f"the bridge's answer is not a decision: {exc}") from exc

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(payload, separators=(",", ":")).encode()
        headers = sign(
            "POST",
            self._endpoint,
            {"Content-Type": "application/json"},
            data,
            credentials=self._credentials,
            region=self._region,
            service="bridge",
            now=datetime.fromtimestamp(self._clock(), UTC),
        )
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self._endpoint, data=data, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return _json_object(response.read())
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise BridgeUnavailable(
                f"the bridge at `{self._endpoint}` is unreachable: {exc}"
            ) from exc


def _key(caller: BearerCaller, check: Check) -> tuple[str, str, str, str]:
    return cache_key(caller.token, check.action, check.resource, check.context)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise BridgeUnavailable("the bridge answered with a body that is not JSON") from exc
    if not isinstance(value, dict):
        raise BridgeUnavailable("the bridge answered with JSON that is not an object")
    return value


def _http_error(exc: urllib.error.HTTPError) -> Exception:
    with exc:
        raw = exc.read()
    if exc.code not in _REFUSED:
        return BridgeUnavailable(f"the bridge answered {exc.code}")
    try:
        body = json.loads(raw)
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    return BridgeRefused(
        exc.code,
        str(body.get("error") or "Unknown"),
        str(body.get("message") or ""),
        body.get("request_id"),
    )
