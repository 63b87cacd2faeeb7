"""Per-provider SAML settings: the `saml_providers:` section of `bridge.yaml`.

```yaml
saml_providers:
  corp:                      # the IAM SAML provider name (saml-provider/corp)
    clock_skew_seconds: 120  # 0..600, default 60 (SAML core 2.5.1.2, 2.4.1.2)
    allow_sha1: false        # true accepts SHA-1 signatures: insecure, logged at start
    metadata_url: https://idp.example.com/metadata.xml   # refreshed, see metadata_refresh
```

A provider without an entry gets the defaults. Faults are reported by `load_settings`
with their key path, e.g. `saml_providers.corp.clock_skew_seconds`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.verify.http import url_refusal

DEFAULT_CLOCK_SKEW_SECONDS = 60
MAX_CLOCK_SKEW_SECONDS = 600
PROVIDER_NAME = re.compile(r"[\w._-]{1,128}", re.ASCII)  # as IAM CreateSAMLProvider


class SAMLProviderSettings(BaseModel):
    """What `bridge.yaml` says about one SAML provider."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clock_skew_seconds: int = Field(
        default=DEFAULT_CLOCK_SKEW_SECONDS, ge=0, le=MAX_CLOCK_SKEW_SECONDS, strict=True
    )
    allow_sha1: bool = Field(default=False, strict=True)
    metadata_url: str | None = None

    @field_validator("metadata_url")
    @classmethod
    def _metadata_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        reason = url_refusal(value)
        if reason is not None:
            raise ValueError(f"`{value}` cannot be fetched: {reason}")
        return value

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)


DEFAULT_PROVIDER_SETTINGS = SAMLProviderSettings()


def check_provider_names(value: Mapping[str, SAMLProviderSettings]) -> None:
    """Raise `ValueError` naming the first key that is not an IAM SAML provider name."""
    for name in value:
        if PROVIDER_NAME.fullmatch(name) is None:
            raise ValueError(
                f"provider name `{name}` must be 1 to 128 of letters, digits, `.`, `_`, `-`"
            )


def provider_settings(
    providers: Mapping[str, SAMLProviderSettings], name: str
) -> SAMLProviderSettings:
    """The settings of provider `name`, or the defaults when it has no entry."""
    return providers.get(name, DEFAULT_PROVIDER_SETTINGS)


def metadata_urls(providers: Mapping[str, SAMLProviderSettings]) -> dict[str, str]:
    """Provider name → metadata URL, for the providers that have one."""
    return {name: item.metadata_url for name, item in providers.items() if item.metadata_url}


def warn_insecure(providers: Mapping[str, SAMLProviderSettings], log: logging.Logger) -> int:
    """Log one WARNING per provider that accepts SHA-1 (CONVENTIONS 13); return how many."""
    insecure = sorted(name for name, item in providers.items() if item.allow_sha1)
    for name in insecure:
        log.warning("insecure: SHA-1 signatures accepted for provider %s", name)
    return len(insecure)
