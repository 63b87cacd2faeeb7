"""OpenID Connect identity providers (IAM `CreateOpenIDConnectProvider`, …).

The issuer url must be https (OIDC Core 3.1.2.1 / OIDC Discovery 2), without query,
fragment or port as IAM requires; plain http is accepted only for a loopback host,
for development.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from bridge.directory import ids, validation
from bridge.directory.context import Context
from bridge.errors import AlreadyExists, InvalidInput, LimitExceeded, NotFound
from bridge.storage.interfaces import OIDCProvider, Tag, UnitOfWork

MAX_PROVIDERS = 100
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_THUMBPRINT = re.compile(r"[0-9a-fA-F]{40}")


def check_url(url: str, field: str = "url") -> str:
    if not 1 <= len(url) <= 255:
        raise InvalidInput(field, "must be 1 to 255 characters long")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidInput(field, f"`{url}` is not a valid url") from error
    loopback = parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise InvalidInput(field, f"`{url}` must begin with `https://`")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise InvalidInput(field, f"`{url}` must name a host and no user")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise InvalidInput(field, f"`{url}` must not contain a query or a fragment")
    if port is not None and not loopback:
        raise InvalidInput(field, f"`{url}` must not contain a port")
    return url


def check_client_ids(client_ids: Sequence[str], field: str = "client_ids") -> tuple[str, ...]:
    for index, client_id in enumerate(client_ids):
        if not 1 <= len(client_id) <= 255:
            raise InvalidInput(f"{field}[{index}]", "must be 1 to 255 characters long")
    unique = tuple(dict.fromkeys(client_ids))
    if len(unique) > MAX_CLIENT_IDS:
        raise LimitExceeded(
            f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )
    return unique


def check_thumbprints(thumbprints: Sequence[str], field: str = "thumbprints") -> tuple[str, ...]:
    if len(thumbprints) > MAX_THUMBPRINTS:
        raise InvalidInput(field, f"at most {MAX_THUMBPRINTS} thumbprints, got {len(thumbprints)}")
    for index, thumbprint in enumerate(thumbprints):
        if _THUMBPRINT.fullmatch(thumbprint) is None:
            raise InvalidInput(f"{field}[{index}]", f"`{thumbprint}` must be 40 hex digits")
    return tuple(dict.fromkeys(t.lower() for t in thumbprints))


class OIDCProviders:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(
        self,
        url: str,
        *,
        client_ids: Sequence[str] = (),
        thumbprints: Sequence[str] = (),
        tags: Sequence[Tag] = (),
    ) -> OIDCProvider:
        provider = OIDCProvider(
            arn=ids.oidc_provider_arn(self._ctx.account_id, check_url(url)),
            url=url,
            created_at=self._ctx.clock.now(),
            client_ids=check_client_ids(client_ids),
            thumbprints=check_thumbprints(thumbprints),
            tags=validation.tags(tags),
        )
        with self._ctx.store.transaction() as uow:
            existing = uow.oidc_providers.list()
            if any(p.arn == provider.arn for p in existing):
                raise AlreadyExists(f"Provider with url `{url}` already exists")
            if len(existing) >= MAX_PROVIDERS:
                raise LimitExceeded(
                    f"Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS}"
                )
            uow.oidc_providers.add(provider)
            return provider

    def get(self, arn: str) -> OIDCProvider:
        with self._ctx.store.transaction() as uow:
            return _require(uow, arn)

    def list(self) -> builtins.list[OIDCProvider]:
        with self._ctx.store.transaction() as uow:
            return uow.oidc_providers.list()

    def delete(self, arn: str) -> None:
        with self._ctx.store.transaction() as uow:
            uow.oidc_providers.remove(_require(uow, arn).arn)

    def add_client_id(self, arn: str, client_id: str) -> None:
        """Adding a client id that is there already changes nothing."""
        with self._ctx.store.transaction() as uow:
            provider = _require(uow, arn)
            client_ids = check_client_ids((*provider.client_ids, client_id), "client_id")
            uow.oidc_providers.update(replace(provider, client_ids=client_ids))

    def remove_client_id(self, arn: str, client_id: str) -> None:
        """Removing a client id that is not there changes nothing (as IAM)."""
        with self._ctx.store.transaction() as uow:
            provider = _require(uow, arn)
            kept = tuple(c for c in provider.client_ids if c != client_id)
            uow.oidc_providers.update(replace(provider, client_ids=kept))

    def update_thumbprints(self, arn: str, thumbprints: Sequence[str]) -> None:
        checked = check_thumbprints(thumbprints)
        with self._ctx.store.transaction() as uow:
            uow.oidc_providers.update(replace(_require(uow, arn), thumbprints=checked))


def _require(uow: UnitOfWork, arn: str) -> OIDCProvider:
    provider = uow.oidc_providers.get(arn)
    if provider is None:
        raise NotFound(f"OpenIDConnect Provider `{arn}` cannot be found")
    return provider
