"""A small fetcher for OIDC discovery documents and JWKS.

Only `https://` is fetched, except plain `http://` on a loopback host (127.0.0.0/8,
::1, localhost) for development and tests (OIDC Discovery 4 requires TLS). Responses
are capped in size, requests time out, and a redirect may neither change the scheme
nor leave the rule above. Loopback requests never go through a proxy.
"""

from __future__ import annotations

import http.client
import ipaddress
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import IO, Protocol
from urllib.parse import urlsplit

from bridge.verify.errors import IdPCommunicationError

DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_BYTES = 1 << 20
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class FetchResult:
    """One HTTP answer. Header names are lower case."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Fetcher(Protocol):
    def fetch(self, url: str) -> FetchResult:
        """GET `url`; any status is returned, transport failures raise `IdPCommunicationError`."""
        ...


def is_loopback_host(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_refusal(url: str) -> str | None:
    """Why `url` may not be fetched, or None when it may (https, or http on loopback)."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:
        return "it is not a valid url"
    if not host:
        return "it names no host"
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host)):
        return None
    return "only `https://` urls are fetched (plain `http://` only on a loopback host)"


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS
    max_repeats = 1  # a url seen again is a loop

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        old_scheme = urlsplit(req.full_url).scheme
        reason = url_refusal(newurl)
        if reason is None and urlsplit(newurl).scheme != old_scheme:
            reason = "a redirect may not change the scheme"
        if reason is not None:
            raise IdPCommunicationError(
                f"refused redirect from `{req.full_url}` to `{newurl}`: {reason}"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class UrlFetcher:
    """`Fetcher` over urllib: size cap, timeout, checked redirects."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._opener = urllib.request.build_opener(_CheckedRedirects())
        self._direct = urllib.request.build_opener(
            _CheckedRedirects(), urllib.request.ProxyHandler({})
        )

    def fetch(self, url: str) -> FetchResult:
        reason = url_refusal(url)
        if reason is not None:
            raise IdPCommunicationError(f"refused to fetch `{url}`: {reason}")
        opener = self._direct if is_loopback_host(urlsplit(url).hostname) else self._opener
        request = urllib.request.Request(  # noqa: S310 (scheme checked by url_refusal)
            url, headers={"Accept": "application/json", "User-Agent": "bridge-oidc"}
        )
        try:
            with opener.open(request, timeout=self._timeout) as response:
                return self._result(url, response.status, response.headers, response)
        except urllib.error.HTTPError as error:
            with error:
                return self._result(url, error.code, error.headers, error)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise IdPCommunicationError(f"cannot fetch `{url}`: {error}") from error

    def _result(self, url: str, status: int, headers: Message, stream: IO[bytes]) -> FetchResult:
        declared = headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_bytes:
            raise IdPCommunicationError(f"response from `{url}` exceeds {self._max_bytes} bytes")
        body = stream.read(self._max_bytes + 1)
        if len(body) > self._max_bytes:
            raise IdPCommunicationError(f"response from `{url}` exceeds {self._max_bytes} bytes")
        names = {name.lower(): value for name, value in headers.items()}
        return FetchResult(status=status, headers=names, body=body)
