"""SAML identity providers (IAM `CreateSAMLProvider`, …) and their metadata documents.

The metadata is parsed with a hardened parser: any DOCTYPE is refused, so no entity
can be declared (no XXE, no entity expansion); the root must be a SAML metadata
`EntityDescriptor` (SAML metadata 2.3.2) with an `IDPSSODescriptor` (2.4.3).
"""

from __future__ import annotations

import builtins
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bridge.directory import ids, validation
from bridge.directory.context import Context
from bridge.errors import AlreadyExists, InvalidInput, LimitExceeded, NotFound
from bridge.storage.interfaces import SAMLProvider, Tag, UnitOfWork

MAX_PROVIDERS = 100
MAX_METADATA_CHARS = 10_000_000
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
_NAME = re.compile(r"[\w._-]{1,128}", re.ASCII)
_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_metadata(document: str, field: str = "saml_metadata_document") -> datetime | None:
    """Check the metadata document; return its `validUntil` when it has one."""
    if len(document) > MAX_METADATA_CHARS:
        raise InvalidInput(field, f"must be at most {MAX_METADATA_CHARS} characters long")
    if _DECLARATIONS.search(document):
        raise InvalidInput(field, "must not contain a DOCTYPE or ENTITY declaration")
    try:
        root = ET.fromstring(document)  # noqa: S314 - no DOCTYPE, so no entities to expand
    except ET.ParseError as error:
        raise InvalidInput(field, f"is not well-formed xml: {error}") from error
    if root.tag != f"{MD}EntityDescriptor":
        raise InvalidInput(field, f"root element must be md:EntityDescriptor, got `{root.tag}`")
    if root.find(f"{MD}IDPSSODescriptor") is None:
        raise InvalidInput(field, "md:EntityDescriptor must contain an md:IDPSSODescriptor")
    return _valid_until(root.get("validUntil"), field)


def _valid_until(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidInput(f"{field}.validUntil", f"`{value}` is not an xs:dateTime") from error
    if parsed.tzinfo is None:
        raise InvalidInput(f"{field}.validUntil", f"`{value}` has no time zone")
    return parsed


class SAMLProviders:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(
        self, name: str, metadata_document: str, *, tags: Sequence[Tag] = ()
    ) -> SAMLProvider:
        if _NAME.fullmatch(name) is None:
            raise InvalidInput("name", f"`{name}` must be 1 to 128 of letters, digits, ._-")
        valid_until = parse_metadata(metadata_document)
        checked_tags = validation.tags(tags)
        arn = ids.saml_provider_arn(self._ctx.account_id, name)
        with self._ctx.store.transaction() as uow:
            existing = uow.saml_providers.list()
            if any(p.arn == arn for p in existing):
                raise AlreadyExists(f"SAML provider `{name}` already exists")
            if len(existing) >= MAX_PROVIDERS:
                raise LimitExceeded(
                    f"Cannot exceed quota for SAMLProvidersPerAccount: {MAX_PROVIDERS}"
                )
            provider = SAMLProvider(
                arn=arn,
                name=name,
                metadata_document=metadata_document,
                created_at=self._ctx.clock.now(),
                valid_until=valid_until,
                tags=checked_tags,
            )
            uow.saml_providers.add(provider)
            return provider

    def get(self, arn: str) -> SAMLProvider:
        with self._ctx.store.transaction() as uow:
            return _require(uow, arn)

    def list(self) -> builtins.list[SAMLProvider]:
        with self._ctx.store.transaction() as uow:
            return uow.saml_providers.list()

    def update(self, arn: str, metadata_document: str) -> SAMLProvider:
        valid_until = parse_metadata(metadata_document)
        with self._ctx.store.transaction() as uow:
            provider = replace(
                _require(uow, arn), metadata_document=metadata_document, valid_until=valid_until
            )
            uow.saml_providers.update(provider)
            return provider

    def delete(self, arn: str) -> None:
        with self._ctx.store.transaction() as uow:
            uow.saml_providers.remove(_require(uow, arn).arn)


def _require(uow: UnitOfWork, arn: str) -> SAMLProvider:
    provider = uow.saml_providers.get(arn)
    if provider is None:
        raise NotFound(f"SAML provider `{arn}` cannot be found")
    return provider
