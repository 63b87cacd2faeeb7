"""The services one bridge process runs, built from settings (no Flask here).

`create_app` keeps them in `app.extensions["bridge"]`; the CLI builds them directly.
Nothing here is a module global: every app or command has its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge.audit import AuditLog, LoggingSink
from bridge.audit_writer import AsyncStoreSink, WriterPolicy
from bridge.clock import Clock, Random, SystemClock, SystemRandom
from bridge.credentials.keys import KeyRing, load_master_key
from bridge.settings import Settings
from bridge.storage import open_store
from bridge.storage.interfaces import OneTimeUse, Store
from bridge.storage.redis_once import RedisOneTimeUse

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
MAPPING_WATCH_SECONDS = 2.0  # how often bridge.yaml is looked at for new mapping rules

if TYPE_CHECKING:
    from bridge.assume import SessionIssuer
    from bridge.authz.authenticate import Authenticator
    from bridge.authz.decide import Authorizer
    from bridge.authz.judge import Judge
    from bridge.authz.last_access import LastAccess
    from bridge.cli_grants import CliGrants
    from bridge.credentials.revocation import Revocations
    from bridge.directory.service import Directory
    from bridge.federate import Federation
    from bridge.mapping.holder import RulesHolder
    from bridge.metadata_refresh import MetadataRefresher
    from bridge.observability import Metrics
    from bridge.ratelimit import RateLimiter
    from bridge.storage.browser_sessions import BrowserSessionRepository
    from bridge.verify.registry import LoginProviders


@dataclass
class Services:
    settings: Settings
    clock: Clock
    rng: Random
    store: Store
    key_ring: KeyRing
    one_time: OneTimeUse
    _directory: Directory | None = field(default=None, repr=False)
    _authorizer: Authorizer | None = field(default=None, repr=False)
    _authenticator: Authenticator | None = field(default=None, repr=False)
    _federation: Federation | None = field(default=None, repr=False)
    _session_issuer: SessionIssuer | None = field(default=None, repr=False)
    _revocations: Revocations | None = field(default=None, repr=False)
    _cli_grants: CliGrants | None = field(default=None, repr=False)
    _mapping: RulesHolder | None = field(default=None, repr=False)
    _login_providers: LoginProviders | None = field(default=None, repr=False)
    _metrics: Metrics | None = field(default=None, repr=False)
    _rate_limiter: RateLimiter | None = field(default=None, repr=False)
    _last_access: LastAccess | None = field(default=None, repr=False)
    _browser_sessions: BrowserSessionRepository | None = field(default=None, repr=False)
    audit: AuditLog = field(default_factory=AuditLog)

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            self._directory = make_directory(self)
        return self._directory

    @property
    def authorizer(self) -> Authorizer:
        """One per app, so its cache of compiled policy sets is shared by every request."""
        if self._authorizer is None:
            from bridge.observability import ObservedAuthorizer

            self._authorizer = ObservedAuthorizer(self.directory, metrics=self.metrics)
        return self._authorizer

    @property
    def authenticator(self) -> Authenticator:
        """One per app, so its cache of derived SigV4 signing keys is shared."""
        if self._authenticator is None:
            from bridge.authz.authenticate import Authenticator

            self._authenticator = Authenticator(
                self.directory, key_ring=self.key_ring, revocations=self.revocations
            )
        return self._authenticator

    @property
    def base_url(self) -> str:
        return self.settings.base_url or DEFAULT_BASE_URL

    @property
    def federation(self) -> Federation:
        """Verifiers (with their JWKS and metadata caches) and the federation path."""
        if self._federation is None:
            self._federation = make_federation(self)
        return self._federation

    @property
    def mapping(self) -> RulesHolder:
        """The role mapping rules from `bridge.yaml` (validated by `load_settings`)."""
        if self._mapping is None:
            from bridge.mapping.holder import RulesHolder
            from bridge.mapping.rules import load_rules

            rules = load_rules(self.settings.mapping)
            self._mapping = RulesHolder(
                rules, source=self.settings.config_path, watch_seconds=MAPPING_WATCH_SECONDS
            )
        return self._mapping

    @property
    def login_providers(self) -> LoginProviders:
        """The browser sign-in providers of `login_providers:` (SAML SP, OIDC RP)."""
        if self._login_providers is None:
            self._login_providers = make_login_providers(self)
        return self._login_providers

    @property
    def cli_grants(self) -> CliGrants:
        """Device codes, loopback codes and CLI sessions of `bridge login` (kept with the
        browser sessions, so Redis when configured)."""
        if self._cli_grants is None:
            from datetime import timedelta

            from bridge.cli_grants import CliGrants

            self._cli_grants = CliGrants(
                self.browser_sessions,
                self.one_time,
                clock=self.clock,
                rng=self.rng,
                session_lifetime=timedelta(hours=self.settings.session_absolute_hours),
            )
        return self._cli_grants

    @property
    def revocations(self) -> Revocations:
        """Revoked sessions, shared through the store (cached about a second per process)."""
        if self._revocations is None:
            from bridge.credentials.revocation import Revocations

            self._revocations = Revocations(self.store, clock=self.clock)
        return self._revocations

    @property
    def session_issuer(self) -> SessionIssuer:
        if self._session_issuer is None:
            from bridge.assume import SessionIssuer

            self._session_issuer = SessionIssuer(
                directory=self.directory,
                authorizer=self.authorizer,
                key_ring=self.key_ring,
                clock=self.clock,
                rng=self.rng,
            )
        return self._session_issuer

    @property
    def browser_sessions(self) -> BrowserSessionRepository:
        """Login-page sessions: in Redis when `redis_url` is set, else in the store."""
        if self._browser_sessions is None:
            from bridge.storage.browser_sessions import open_browser_sessions

            self._browser_sessions = open_browser_sessions(
                self.settings.redis_url, self.store, self.clock
            )
        return self._browser_sessions

    @property
    def last_access(self) -> LastAccess:
        """Service last accessed from decisions; one per app, so its write throttle is shared."""
        if self._last_access is None:
            from bridge.authz.last_access import LastAccess

            self._last_access = LastAccess(self.store)
        return self._last_access

    @property
    def judge(self) -> Judge:
        """`/v1/authorize`: authenticate the subject caller, decide, audit, last accessed."""
        from bridge.authz.judge import Judge

        return Judge(
            self.authenticator,
            self.authorizer,
            audit=self.audit,
            last_access=self.last_access,
            clock=self.clock,
        )

    @property
    def metrics(self) -> Metrics:
        """This app's Prometheus counters (its own registry), served by `GET /metrics`."""
        if self._metrics is None:
            from bridge.observability import Metrics

            self._metrics = Metrics(audit=self.audit.stats)
        return self._metrics

    @property
    def rate_limiter(self) -> RateLimiter:
        """Per-minute limits, counted in Redis when `redis_url` is set (fails open)."""
        if self._rate_limiter is None:
            from bridge.ratelimit import make_rate_limiter

            metrics = self.metrics
            self._rate_limiter = make_rate_limiter(
                self.settings,
                self.clock,
                on_throttled=metrics.throttled,
                on_error=metrics.rate_limiter_error,
            )
        return self._rate_limiter

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        """Name → a call that raises `StorageUnavailable` when that dependency is down."""
        checks: dict[str, Callable[[], None]] = {"database": self.store.ping}
        if isinstance(self.one_time, RedisOneTimeUse):
            checks["redis"] = self.one_time.ping
        return checks

    def close(self) -> None:
        self.audit.close()  # drains the audit queue into the store first
        self.store.close()


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: Random | None = None,
    store: Store | None = None,
    master_key: bytes | None = None,
) -> Services:
    clock = clock or SystemClock()
    rng = rng or SystemRandom()
    store = store or open_store(
        settings.effective_database_url,
        clock=clock,
        pool_size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout,
    )
    key = master_key if master_key is not None else load_master_key(settings.master_key_path)
    key_ring = KeyRing(store, key, clock=clock, rng=rng)
    return Services(
        settings=settings,
        clock=clock,
        rng=rng,
        store=store,
        key_ring=key_ring,
        one_time=_one_time(settings, store, clock),
        audit=AuditLog(LoggingSink(), _audit_store_sink(settings, store)),
    )


def _audit_store_sink(settings: Settings, store: Store) -> AsyncStoreSink:
    policy = WriterPolicy(
        queue_size=settings.audit_queue_size, flush_interval=settings.audit_flush_ms / 1000
    )
    return AsyncStoreSink(store, policy)


def _one_time(settings: Settings, store: Store, clock: Clock) -> OneTimeUse:
    if settings.redis_url:
        return RedisOneTimeUse(settings.redis_url, clock=clock, timeout=settings.db_connect_timeout)
    return store


def make_directory(services: Services) -> Directory:
    from bridge.directory.passwords import HashingConfig
    from bridge.directory.service import Directory

    return Directory(
        services.store,
        account_id=services.settings.account_id,
        sealer=services.key_ring,
        clock=services.clock,
        rng=services.rng,
        hasher=HashingConfig(),
    )


def make_federation(services: Services) -> Federation:
    from bridge.federate import Federation
    from bridge.observability import ObservedOneTimeUse
    from bridge.saml_settings import warn_insecure
    from bridge.sp_keys import ensure_sp_key_pair, sp_entity_id
    from bridge.verify.http import UrlFetcher
    from bridge.verify.jwks import JWKSCache
    from bridge.verify.oidc import OIDCVerifier
    from bridge.verify.saml import SAMLVerifier, SPConfig

    settings = services.settings
    pair = ensure_sp_key_pair(settings, services.base_url, clock=services.clock, rng=services.rng)
    sp = SPConfig(
        entity_id=sp_entity_id(services.base_url),
        acs_url=f"{services.base_url}/saml/acs",
        private_key_pem=pair.key_pem,
    )
    warn_insecure(settings.saml_providers, logging.getLogger("bridge"))
    jwks = JWKSCache(on_refresh=lambda ok: services.metrics.idp_refresh("jwks", ok))
    oidc = OIDCVerifier(clock=services.clock, fetcher=UrlFetcher(), jwks_cache=jwks)
    return Federation(
        directory=services.directory,
        key_ring=services.key_ring,
        one_time=ObservedOneTimeUse(services.one_time, services.metrics.replay_cache_error),
        clock=services.clock,
        rng=services.rng,
        saml=SAMLVerifier(clock=services.clock, sp=sp),
        oidc_verifier=oidc,
        saml_providers=settings.saml_providers,
        metadata_refresher=_metadata_refresher(services),
        mapping=services.mapping,
        login_providers=settings.login_providers,
    )


def make_login_providers(services: Services) -> LoginProviders:
    from bridge.login_settings import client_secret
    from bridge.login_settings import warn_insecure as warn_inline_secrets
    from bridge.sp_keys import ensure_sp_key_pair, sp_entity_id
    from bridge.verify.http import UrlFetcher
    from bridge.verify.oidc_rp import DiscoveryCache, OIDCRelyingParty, RPConfig
    from bridge.verify.oidc_rp_http import UrlRPHttp
    from bridge.verify.registry import RegistryParts, build_login_providers
    from bridge.verify.saml_sp import SPInfo

    settings, federation, base = services.settings, services.federation, services.base_url
    pair = ensure_sp_key_pair(settings, base, clock=services.clock, rng=services.rng)
    sp = SPInfo(
        sp_entity_id(base), f"{base}/saml/acs", f"{base}/saml/slo", pair.key_pem, pair.cert_pem
    )
    warn_inline_secrets(settings.login_providers, logging.getLogger("bridge"))
    discovery, http = DiscoveryCache(UrlFetcher()), UrlRPHttp()

    def relying_party(config: RPConfig) -> OIDCRelyingParty:
        return OIDCRelyingParty(
            config,
            clock=services.clock,
            rng=services.rng,
            discovery=discovery,
            http=http,
            verifier=federation.oidc_verifier,
            provider_record=federation.oidc_provider_for,
        )

    parts = RegistryParts(
        sp=sp,
        saml_verifier=federation.saml_verifier,
        saml_record=federation.saml_provider_named,
        saml_settings=settings.saml_providers,
        oidc_parts=relying_party,
        client_secret=client_secret,
        redirect_uri=f"{base}/oidc/callback",
        clock=services.clock,
        rng=services.rng,
    )
    return build_login_providers(settings.login_providers, parts)


def _metadata_refresher(services: Services) -> MetadataRefresher | None:
    from datetime import timedelta

    from bridge.metadata_refresh import MetadataRefresher
    from bridge.saml_settings import metadata_urls
    from bridge.verify.http import UrlFetcher

    urls = metadata_urls(services.settings.saml_providers)
    if not urls:
        return None
    interval = timedelta(seconds=services.settings.metadata_refresh_seconds)
    return MetadataRefresher(
        services.directory,
        UrlFetcher(),
        services.clock,
        interval,
        urls=urls,
        on_refresh=lambda ok: services.metrics.idp_refresh("metadata", ok),
    )
