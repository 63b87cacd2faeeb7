"""The HTTP calls of the OIDC relying party: the token request and userinfo.

Same rules as `http.py` (https, or plain http on loopback only; a size cap; a
timeout; no proxy for loopback), and no redirects at all: a token endpoint that
redirects is refused rather than followed with the client's credentials.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import IO, Any, Protocol
from urllib.parse import urlencode, urlsplit

from bridge.verify.errors import IdPCommunicationError
from bridge.verify.http import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_SECONDS, url_refusal


class RPHttp(Protocol):
    def request_json(
        self, url: str, *, headers: Mapping[str, str], form: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """GET (or POST `form`) `url`; the status and the JSON object answered."""
        ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class UrlRPHttp:
    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._opener = urllib.request.build_opener(_NoRedirects())
        self._direct = urllib.request.build_opener(_NoRedirects(), urllib.request.ProxyHandler({}))

    def request_json(
        self, url: str, *, headers: Mapping[str, str], form: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        reason = url_refusal(url)
        if reason is not None:
            raise IdPCommunicationError(f"refused to call `{url}`: {reason}")
        data = None if form is None else urlencode(form).encode("ascii")
        all_headers = {"Accept": "application/json", "User-Agent": "bridge-oidc", **headers}
        if data is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, headers=all_headers)  # noqa: S310
        loopback = (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")
        opener = self._direct if loopback else self._opener
        try:
            with opener.open(request, timeout=self._timeout) as response:
                return response.status, self._json(url, response)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, self._json(url, error, strict=False)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise IdPCommunicationError(f"cannot call `{url}`: {error}") from error

    def _json(self, url: str, stream: IO[bytes], *, strict: bool = True) -> dict[str, Any]:
        body = stream.read(self._max_bytes + 1)
        if len(body) > self._max_bytes:
            raise IdPCommunicationError(f"answer from `{url}` exceeds {self._max_bytes} bytes")
        try:
            value = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            if not strict:
                return {}
            raise IdPCommunicationError(f"answer from `{url}` is not JSON") from error
        if not isinstance(value, dict):
            if not strict:
                return {}
            raise IdPCommunicationError(f"answer from `{url}` is not a JSON object")
        return value
