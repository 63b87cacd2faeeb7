"""SAML IdP metadata kept current from the URLs in `saml_providers.<name>.metadata_url`.

No background thread: `refresh_due()` is called on the federation path and fetches
every configured URL at most once per interval (the first call fetches). A fetched
document is checked as `CreateSAMLProvider` would (`parse_metadata`) and as the
verifier will read it (`parse_idp_metadata`: entity id, signing keys, validUntil)
before it replaces the stored one, and a provider that does not exist yet is created.
When a fetch or a check fails the last good copy stays in use and a WARNING names the
provider and the reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bridge.clock import Clock
from bridge.directory import ids
from bridge.directory.saml_providers import parse_metadata
from bridge.directory.service import Directory
from bridge.errors import ClientFault, NotFound
from bridge.verify.http import Fetcher
from bridge.verify.metadata import parse_idp_metadata

DEFAULT_INTERVAL = timedelta(hours=1)
log = logging.getLogger("bridge.metadata_refresh")


class MetadataFetchFailed(ClientFault):
    """The metadata URL did not answer 200 with a UTF-8 document."""


class MetadataRefresher:
    def __init__(
        self,
        directory: Directory,
        fetcher: Fetcher,
        clock: Clock,
        interval: timedelta = DEFAULT_INTERVAL,
        *,
        urls: Mapping[str, str],
        on_refresh: Callable[[bool], None] | None = None,
    ) -> None:
        """`on_refresh(ok)` is told of every fetch of a provider's metadata (for metrics)."""
        self._directory = directory
        self._fetcher = fetcher
        self._clock = clock
        self._interval = interval
        self._urls = dict(urls)
        self._last_run: datetime | None = None
        self._lock = threading.Lock()
        self._on_refresh = on_refresh

    def refresh_due(self) -> list[str]:
        """Refresh every provider when the interval has passed; return the ARNs changed."""
        if not self._urls:
            return []
        with self._lock:
            now = self._clock.now()
            if self._last_run is not None and now - self._last_run < self._interval:
                return []
            self._last_run = now
            return [arn for name in sorted(self._urls) if (arn := self.refresh(name))]

    def refresh(self, name: str) -> str | None:
        """Fetch and apply one provider now; the ARN when it changed, else None."""
        url = self._urls[name]
        try:
            document = self._fetch(url)
            parse_metadata(document, field=f"saml_providers.{name}.metadata_url")
            parse_idp_metadata(document, now=self._clock.now())
            changed = self._apply(name, document)
        except ClientFault as exc:
            self._told(ok=False)
            log.warning(
                "SAML provider %s: metadata from %s not used, keeping the last good copy: %s",
                name,
                url,
                exc.message,
            )
            return None
        self._told(ok=True)
        return changed

    def _told(self, *, ok: bool) -> None:
        if self._on_refresh is not None:
            self._on_refresh(ok)

    def _fetch(self, url: str) -> str:
        result = self._fetcher.fetch(url)
        if result.status != 200:
            raise MetadataFetchFailed(f"`{url}` answered HTTP {result.status}, expected 200")
        try:
            return result.body.decode("utf-8")
        except UnicodeDecodeError:
            raise MetadataFetchFailed(f"`{url}` answered a document that is not UTF-8") from None

    def _apply(self, name: str, document: str) -> str | None:
        providers = self._directory.saml_providers
        arn = ids.saml_provider_arn(self._directory.account_id, name)
        try:
            current = providers.get(arn)
        except NotFound:
            providers.create(name, document)
            log.info("SAML provider %s created from its metadata URL", arn)
            return arn
        if current.metadata_document == document:
            return None
        providers.update(arn, document)
        log.info("SAML provider %s updated from its metadata URL", arn)
        return arn
