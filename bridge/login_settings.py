"""Browser sign-in providers: the `login_providers:` section of `bridge.yaml`.

```yaml
login_providers:
  corp-okta:                         # the name in /login/<name> and in mapping rules
    protocol: oidc
    display_name: Corp Okta
    issuer: https://corp.okta.com    # an IAM OIDC provider must exist for it
    client_id: bridge
    client_secret_file: /etc/bridge/okta-secret   # mode 0600; or the environment
                                     # variable BRIDGE_LOGIN_CORP_OKTA_CLIENT_SECRET
    scopes: [openid, email, profile]
    use_userinfo: false
    groups_claim: groups
    overage: {lookup: none}          # Entra ID `_claim_names.groups`: reported clearly;
                                     # or {lookup: url, url: https://...} (bearer GET)
  corp-saml:
    protocol: saml
    display_name: Corp SAML
    saml_provider: corp              # the IAM SAML provider (its metadata)
    binding: redirect                # or post
    sign_requests: auto              # auto (as the IdP metadata asks) | always | never
    allow_idp_initiated: false
    name_id_format: urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress
```

An inline `client_secret` is accepted only in development mode and logged loudly
(CONVENTIONS 13). Faults are reported by `load_settings` with their key path, e.g.
`login_providers.corp-okta.issuer`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from bridge.verify.http import url_refusal

PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
SAML_PROVIDER_NAME = re.compile(r"[\w._-]{1,128}", re.ASCII)
RESERVED_NAMES = frozenset({"local", "mfa"})  # other pages under /login/
SECRET_ENV_PREFIX = "BRIDGE_LOGIN_"  # noqa: S105 - a variable name, not a secret
SECRET_ENV_SUFFIX = "_CLIENT_SECRET"  # noqa: S105 - a variable name, not a secret


class OverageSettings(BaseModel):
    """What to do when an Entra ID token says the groups did not fit (`_claim_names`):
    `none` reports it to the person; `url` GETs `url` with the access token (bearer) and
    reads `groups` or `value` (Microsoft Graph) from the JSON answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lookup: Literal["none", "url"] = "none"
    url: str | None = None

    @model_validator(mode="after")
    def _url(self) -> OverageSettings:
        if self.lookup == "url" and self.url is None:
            raise ValueError("`lookup: url` needs a `url`")
        if self.lookup == "none" and self.url is not None:
            raise ValueError("`url` is used only with `lookup: url`")
        reason = None if self.url is None else url_refusal(self.url)
        if reason is not None:
            raise ValueError(f"url `{self.url}` cannot be used: {reason}")
        return self


class OIDCLoginProvider(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: Literal["oidc"]
    display_name: str = Field(min_length=1, max_length=100)
    issuer: str
    client_id: str = Field(min_length=1, max_length=255)
    client_secret_file: Path | None = None
    client_secret: SecretStr | None = None  # development only
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    use_userinfo: bool = False
    groups_claim: str = Field(default="groups", min_length=1)
    overage: OverageSettings = OverageSettings()

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        reason = url_refusal(value)
        if reason is not None:
            raise ValueError(f"`{value}` cannot be used: {reason}")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "openid" not in value:
            raise ValueError("must include `openid` (OIDC Core 3.1.2.1)")
        bad = [scope for scope in value if not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", scope)]
        if bad:
            raise ValueError(f"scope `{bad[0]}` is not a valid OAuth scope token")
        return value


class SAMLLoginProvider(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: Literal["saml"]
    display_name: str = Field(min_length=1, max_length=100)
    saml_provider: str
    binding: Literal["redirect", "post"] = "redirect"
    sign_requests: Literal["auto", "always", "never"] = "auto"
    allow_idp_initiated: bool = False
    name_id_format: str | None = None

    @field_validator("saml_provider")
    @classmethod
    def _saml_provider(cls, value: str) -> str:
        if SAML_PROVIDER_NAME.fullmatch(value) is None:
            raise ValueError(
                f"`{value}` is not an IAM SAML provider name (1 to 128 of letters, digits, "
                "`.`, `_`, `-`)"
            )
        return value


LoginProviderSettings = Annotated[
    OIDCLoginProvider | SAMLLoginProvider, Field(discriminator="protocol")
]


def check_login_provider_names(value: Mapping[str, object]) -> None:
    """Raise `ValueError` naming the first key that cannot be a provider name in a URL."""
    for name in value:
        if PROVIDER_NAME.fullmatch(name) is None:
            raise ValueError(
                f"provider name `{name}` must be 1 to 64 of lower-case letters, digits, "
                "`.`, `_`, `-`, starting with a letter or digit"
            )
        if name in RESERVED_NAMES:
            raise ValueError(f"provider name `{name}` is reserved for /login/{name}")


def fault_key(loc: Sequence[str | int]) -> Sequence[str | int]:
    """Drop the union tag pydantic puts in the path (`login_providers.x.oidc.issuer`)."""
    if len(loc) >= 3 and loc[0] == "login_providers" and loc[2] in ("oidc", "saml"):
        return [*loc[:2], *loc[3:]]
    return loc


def secret_env_name(provider: str) -> str:
    """`corp-okta` → `BRIDGE_LOGIN_CORP_OKTA_CLIENT_SECRET`."""
    return SECRET_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", provider.upper()) + SECRET_ENV_SUFFIX


def is_secret_env(name: str) -> bool:
    return name.startswith(SECRET_ENV_PREFIX) and name.endswith(SECRET_ENV_SUFFIX)


def secret_faults(
    providers: Mapping[str, OIDCLoginProvider | SAMLLoginProvider],
    environ: Mapping[str, str],
    *,
    development: bool,
) -> list[tuple[str, str]]:
    """Every OIDC provider has exactly one usable source for its client secret."""
    faults: list[tuple[str, str]] = []
    for name, item in providers.items():
        if not isinstance(item, OIDCLoginProvider):
            continue
        key = f"login_providers.{name}"
        if item.client_secret is not None and not development:
            faults.append(
                (f"{key}.client_secret", "an inline secret is allowed only in development mode")
            )
        elif item.client_secret_file is not None:
            faults.extend(_file_faults(f"{key}.client_secret_file", item.client_secret_file))
        elif item.client_secret is None and not environ.get(secret_env_name(name)):
            faults.append(
                (
                    f"{key}.client_secret_file",
                    f"no client secret: set `client_secret_file` or `{secret_env_name(name)}`",
                )
            )
    return faults


def _file_faults(key: str, path: Path) -> list[tuple[str, str]]:
    try:
        mode = path.stat().st_mode & 0o777
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return [(key, f"cannot read `{path}`: {exc}")]
    if mode & 0o077:
        return [(key, f"`{path}` is readable by others (mode {mode:o}); chmod 600 it")]
    if not secret:
        return [(key, f"`{path}` is empty")]
    return []


def client_secret(
    name: str, provider: OIDCLoginProvider, environ: Mapping[str, str] | None = None
) -> str:
    """The client secret from the file, the environment or (development) the settings."""
    env = os.environ if environ is None else environ
    if provider.client_secret_file is not None:
        return provider.client_secret_file.read_text(encoding="utf-8").strip()
    from_env = env.get(secret_env_name(name))
    if from_env:
        return from_env
    if provider.client_secret is not None:
        return provider.client_secret.get_secret_value()
    return ""


def warn_insecure(
    providers: Mapping[str, OIDCLoginProvider | SAMLLoginProvider], log: logging.Logger
) -> int:
    """One WARNING per provider whose secret is inline in `bridge.yaml`; how many."""
    inline = sorted(
        name
        for name, item in providers.items()
        if isinstance(item, OIDCLoginProvider) and item.client_secret is not None
    )
    for name in inline:
        log.warning("insecure: client secret of login provider %s is inline in bridge.yaml", name)
    return len(inline)
