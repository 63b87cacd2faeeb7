"""Typed settings from `<home>/bridge.yaml` and `BRIDGE_*` environment variables.

Precedence, lowest first: built-in defaults, `bridge.yaml`, environment. Loading
collects every fault (unknown keys, wrong types, values out of range, an unreadable
file) and raises one `ConfigError` listing them all with the key that is wrong, so an
operator fixes the file in one pass (dex `cmd/dex/config.go` `Validate`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bridge.errors import ConfigError
from bridge.login_settings import LoginProviderSettings, check_login_provider_names
from bridge.login_settings import fault_key as login_fault_key
from bridge.login_settings import is_secret_env as is_login_secret_env
from bridge.login_settings import secret_faults as login_secret_faults
from bridge.saml_settings import SAMLProviderSettings, check_provider_names

CONFIG_FILE = "bridge.yaml"
MASTER_KEY_FILE = "master.key"
DATABASE_FILE = "bridge.db"
ADMIN_CREDENTIALS_FILE = "admin-credentials"
DEFAULT_HOME = ".bridge"
IDP_METADATA_DIR = "idp_metadata"
SP_KEY_FILE = "sp-key.pem"
SP_CERT_FILE = "sp-cert.pem"

# Environment variable → settings key. Only these are read; anything else BRIDGE_*
# is reported, since a typo there would otherwise silently keep a default.
ENV_KEYS: dict[str, str] = {
    "BRIDGE_ACCOUNT_ID": "account_id",
    "BRIDGE_DATABASE_URL": "database_url",
    "BRIDGE_REDIS_URL": "redis_url",
    "BRIDGE_BASE_URL": "base_url",
    "BRIDGE_DEVELOPMENT": "development",
    "BRIDGE_LOG_LEVEL": "log_level",
    "BRIDGE_DB_POOL_SIZE": "db_pool_size",
    "BRIDGE_AUDIT_QUEUE_SIZE": "audit_queue_size",
    "BRIDGE_AUDIT_STREAM": "audit_stream",
    "BRIDGE_AUDIT_FLUSH_MS": "audit_flush_ms",
    "BRIDGE_DB_CONNECT_TIMEOUT": "db_connect_timeout",
    "BRIDGE_MAX_REQUEST_BYTES": "max_request_bytes",
    "BRIDGE_IDP_METADATA_DIR": "idp_metadata_dir",
    "BRIDGE_SP_KEY_FILE": "sp_key_file",
    "BRIDGE_SP_CERT_FILE": "sp_cert_file",
    "BRIDGE_METADATA_REFRESH_SECONDS": "metadata_refresh_seconds",
    "BRIDGE_LOG_FORMAT": "log_format",
    "BRIDGE_RATE_LIMIT_SIGNIN_PER_MINUTE": "rate_limit_signin_per_minute",
    "BRIDGE_RATE_LIMIT_STS_PER_MINUTE": "rate_limit_sts_per_minute",
    "BRIDGE_RATE_LIMIT_PROVIDER_PER_MINUTE": "rate_limit_provider_per_minute",
    "BRIDGE_SESSION_IDLE_MINUTES": "session_idle_minutes",
    "BRIDGE_SESSION_ABSOLUTE_HOURS": "session_absolute_hours",
}
# Read elsewhere (by the CLI or the key ring), accepted here so they are not "unknown".
ENV_ELSEWHERE = {"BRIDGE_HOME", "BRIDGE_MASTER_KEY", "BRIDGE_CONFIG"}


class Settings(BaseModel):
    """Everything the app needs to start. Built by `load_settings`, never mutated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path
    account_id: str = Field(default="000000000000")
    database_url: str = ""
    redis_url: str | None = None
    base_url: str | None = None
    development: bool = False
    log_level: str = "INFO"
    log_format: Literal["json", "text"] | None = None  # default: json for serve, text for CLI
    # Rate limits (bridge/ratelimit.py): per client address, and per identity provider.
    rate_limit_signin_per_minute: int = Field(default=30, ge=1, le=1_000_000)
    rate_limit_sts_per_minute: int = Field(default=300, ge=1, le=1_000_000)
    rate_limit_provider_per_minute: int = Field(default=3000, ge=1, le=10_000_000)
    db_pool_size: int = Field(default=5, ge=1, le=200)
    # Audit events wait in a bounded queue for one writer thread per process, which stores
    # them in batches at most `audit_flush_ms` after they were queued (bridge/audit_writer.py).
    audit_queue_size: int = Field(default=10_000, ge=1, le=10_000_000)
    # Where `bridge serve` writes audit events as JSON lines: None = with the other logs,
    # `stdout`, `stderr`, or a file (relative to the home; created 0600, appended to).
    audit_stream: str | None = None
    audit_flush_ms: int = Field(default=200, ge=1, le=600_000)
    db_connect_timeout: float = Field(default=5.0, gt=0, le=120)
    max_request_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    idp_metadata_dir: Path | None = None
    sp_key_file: Path | None = None
    sp_cert_file: Path | None = None
    saml_providers: dict[str, SAMLProviderSettings] = Field(default_factory=dict)
    mapping: dict[str, Any] | None = None  # role mapping rules, see bridge/mapping/rules.py
    login_providers: dict[str, LoginProviderSettings] = Field(default_factory=dict)
    metadata_refresh_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)  # browser sessions
    session_absolute_hours: int = Field(default=12, ge=1, le=7 * 24)

    @field_validator("saml_providers")
    @classmethod
    def _saml_providers(
        cls, value: dict[str, SAMLProviderSettings]
    ) -> dict[str, SAMLProviderSettings]:
        check_provider_names(value)
        return value

    @field_validator("login_providers")
    @classmethod
    def _login_providers(
        cls, value: dict[str, LoginProviderSettings]
    ) -> dict[str, LoginProviderSettings]:
        check_login_provider_names(value)
        return value

    @field_validator("account_id")
    @classmethod
    def _account_id(cls, value: str) -> str:
        if not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"expected 12 digits, got `{value}`")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite:", "postgresql+psycopg:", "memory:")):
            raise ValueError(
                "expected `sqlite:///PATH`, `postgresql+psycopg://...` or `memory://`, "
                f"got `{_redact_url(value)}`"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError(f"expected `redis://HOST:PORT/DB`, got `{_redact_url(value)}`")
        return value or None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"expected an absolute http(s) URL, got `{value}`")
        if parts.query or parts.fragment:
            raise ValueError(f"must not carry a query or fragment, got `{value}`")
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got `{value}`")
        return level

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / DATABASE_FILE}"

    @property
    def effective_idp_metadata_dir(self) -> Path:
        """SAML IdP metadata files loaded at start (default `<home>/idp_metadata`)."""
        folder = self.idp_metadata_dir or Path(IDP_METADATA_DIR)
        return folder if folder.is_absolute() else self.home / folder

    @property
    def effective_sp_key_file(self) -> Path:
        """The bridge's SAML SP private key (default `<home>/sp-key.pem`, mode 0600)."""
        return self._in_home(self.sp_key_file, SP_KEY_FILE)

    @property
    def effective_sp_cert_file(self) -> Path:
        """The bridge's SAML SP certificate (default `<home>/sp-cert.pem`)."""
        return self._in_home(self.sp_cert_file, SP_CERT_FILE)

    @property
    def sp_files_are_default(self) -> bool:
        """True when neither SP file was configured: the bridge may then create them."""
        return self.sp_key_file is None and self.sp_cert_file is None

    def _in_home(self, configured: Path | None, default: str) -> Path:
        path = configured or Path(default)
        return path if path.is_absolute() else self.home / path

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def master_key_path(self) -> Path:
        return self.home / MASTER_KEY_FILE


def resolve_home(home: str | Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """`--home`, else `BRIDGE_HOME`, else `./.bridge`."""
    env = os.environ if environ is None else environ
    chosen = home if home is not None else env.get("BRIDGE_HOME") or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


def load_settings(
    home: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read `bridge.yaml` in the home and the environment; raise `ConfigError` with every fault."""
    env = os.environ if environ is None else environ
    home_path = resolve_home(home, env)
    faults: list[tuple[str, str]] = []
    values: dict[str, Any] = _read_yaml(home_path / CONFIG_FILE, faults)
    values.update(_read_env(env, faults))
    values.update(overrides or {})
    faults.extend(_mapping_faults(values.get("mapping"), home_path / CONFIG_FILE))
    values["home"] = home_path
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        faults.extend(_pydantic_faults(exc))
        raise ConfigError(faults) from None
    faults.extend(
        login_secret_faults(settings.login_providers, env, development=settings.development)
    )
    if faults:
        raise ConfigError(faults)
    return settings


def validate(settings_or_home: Settings | str | Path | None = None) -> list[tuple[str, str]]:
    """Every fault in the configuration, as (key, message); empty when it is valid."""
    if isinstance(settings_or_home, Settings):
        home: str | Path | None = settings_or_home.home
    else:
        home = settings_or_home
    try:
        load_settings(home)
    except ConfigError as exc:
        return exc.faults
    return []


def _read_yaml(path: Path, faults: list[tuple[str, str]]) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        faults.append((str(path), f"cannot read the file: {exc}"))
        return {}
    except yaml.YAMLError as exc:
        faults.append((str(path), f"not valid YAML: {exc}"))
        return {}
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        faults.append((str(path), f"expected a mapping at the top, got {type(loaded).__name__}"))
        return {}
    return {str(key): value for key, value in loaded.items()}


def _mapping_faults(raw: object, path: Path) -> list[tuple[str, str]]:
    """Every fault of the `mapping:` rules, keyed by path, naming the file (a value that is
    not a mapping is left to the model, which reports its type)."""
    if not isinstance(raw, dict):
        return []
    from bridge.mapping.rules import parse_rules

    _, faults = parse_rules(raw, "mapping")
    return [(key, f"{message} (in {path})") for key, message in faults]


def _read_env(env: Mapping[str, str], faults: list[tuple[str, str]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith("BRIDGE_") or name.startswith("BRIDGE_TEST_"):
            continue
        if name in ENV_KEYS:
            values[ENV_KEYS[name]] = raw
        elif name not in ENV_ELSEWHERE and not is_login_secret_env(name):
            faults.append((name, "unknown environment variable"))
    return values


def _pydantic_faults(exc: ValidationError) -> list[tuple[str, str]]:
    faults = []
    for error in exc.errors():
        key = ".".join(str(part) for part in login_fault_key(error["loc"])) or "(root)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        faults.append((key, message[:1].lower() + message[1:]))
    return faults


def _redact_url(url: str) -> str:
    """Hide a password in a URL before it reaches a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
