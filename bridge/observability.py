"""Prometheus metrics of one app (the only prometheus_client import).

`Metrics` keeps its own `CollectorRegistry`, never prometheus_client's global one: every
app (and every test) counts on its own. Callers use the typed methods; label values are
bounded by what the bridge knows (URL rules, error codes, provider ARNs, effects), never
raw paths or client input.

Under gunicorn (`bridge serve --workers N`) the workers share their counts through
prometheus_client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by `serving.py`):
whichever worker answers a scrape reports the sum over every worker of the instance. The
audit writer's counts, which live in each worker, are copied into shared counters at most
once a second and at every scrape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bridge.authz.decide import Authorizer
from bridge.errors import StorageUnavailable

if TYPE_CHECKING:
    from bridge.audit import AuditStats
    from bridge.policy import Decision
    from bridge.storage.interfaces import OneTimeUse

NAMESPACE = "bridge"
MAX_LABEL = 200  # longer label values are cut: a label is for grouping, not for records
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters and histograms of one app, exposed by `GET /metrics`."""

    def __init__(self, *, audit: Callable[[], AuditStats] | None = None) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        self._requests = Counter(
            "http_requests", "HTTP requests by endpoint (URL rule), method and status",
            ["endpoint", "method", "status"], namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency by endpoint (URL rule)",
            ["endpoint"], namespace=NAMESPACE, registry=reg, buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self._sign_ins = Counter(
            "sign_ins", "sign-ins by identity provider and result (success or failure)",
            ["provider", "result"], namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._refusals = Counter(
            "refusals", "requests refused, by reason (the error code answered)",
            ["reason"], namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._issued = Counter(
            "credentials_issued", "temporary credentials issued, by kind (the action)",
            ["kind"], namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._decisions = Histogram(
            "decision_duration_seconds", "authorization decisions by effect, with latency",
            ["effect"], namespace=NAMESPACE, registry=reg, buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self._refreshes = Counter(
            "idp_refreshes", "JWKS and SAML metadata refreshes by kind and result",
            ["kind", "result"], namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._replay_errors = Counter(
            "replay_cache_errors", "one-time-use (replay) cache faults; the request failed closed",
            namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._throttled = Counter(
            "rate_limited", "requests refused by a rate limit, by scope",
            ["scope"], namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._limiter_errors = Counter(
            "rate_limiter_errors", "rate limit checks skipped because the counter store failed",
            namespace=NAMESPACE, registry=reg,
        )  # fmt: skip
        self._shared = multiprocess_dir() is not None
        self._audit = audit
        self._audit_sync = _SharedAudit(reg) if self._shared and audit is not None else None
        if audit is not None and not self._shared:
            reg.register(_AuditCollector(audit))

    def request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self._requests.labels(_cut(endpoint), method, str(status)).inc()
        self._latency.labels(_cut(endpoint)).observe(seconds)
        if self._audit_sync is not None and self._audit is not None:
            self._audit_sync.maybe_copy(self._audit)

    def sign_in(self, provider: str, result: str) -> None:
        self._sign_ins.labels(_cut(provider), result).inc()

    def refusal(self, reason: str) -> None:
        self._refusals.labels(_cut(reason)).inc()

    def credentials_issued(self, kind: str) -> None:
        self._issued.labels(kind).inc()

    def decision(self, effect: str, seconds: float) -> None:
        self._decisions.labels(effect).observe(seconds)

    def idp_refresh(self, kind: str, ok: bool) -> None:
        """`kind`: `jwks` or `metadata`."""
        self._refreshes.labels(kind, "success" if ok else "failure").inc()

    def replay_cache_error(self) -> None:
        self._replay_errors.inc()

    def throttled(self, scope: str) -> None:
        self._throttled.labels(scope).inc()

    def rate_limiter_error(self) -> None:
        self._limiter_errors.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type (every worker's, when shared)."""
        if not self._shared:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        if self._audit_sync is not None and self._audit is not None:
            self._audit_sync.copy(self._audit())
        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        return generate_latest(combined), CONTENT_TYPE_LATEST


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def share_between_processes(folder: str) -> None:
    """Make metrics created from now on (in this process and the processes it forks) keep
    their values in `folder`, summed at scrape time (prometheus_client multiprocess)."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def process_ended(pid: int) -> None:
    """Forget the live gauges of a worker that ended (its counters stay in the sums)."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class _SharedAudit:
    """The audit writer's counts of this worker, added into counters every worker shares."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._written = Counter(
            "audit_events_written", "audit events stored",
            namespace=NAMESPACE, registry=registry,
        )  # fmt: skip
        self._lost = Counter(
            "audit_events_lost", "audit events lost (store refused or down past the retry "
            "bound, or queue full)", namespace=NAMESPACE, registry=registry,
        )  # fmt: skip
        self._failed = Counter(
            "audit_store_errors", "audit events lost because the store refused them or stayed "
            "down past the retry bound", namespace=NAMESPACE, registry=registry,
        )  # fmt: skip
        self._depth = Gauge(
            "audit_queue_depth", "audit events queued or being written to the store",
            namespace=NAMESPACE, registry=registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self._copied = (0, 0, 0)
        self._next = 0.0

    def maybe_copy(self, read: Callable[[], AuditStats]) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + 1.0
            self.copy(read())

    def copy(self, stats: AuditStats) -> None:
        written, lost, failed = self._copied
        self._written.inc(max(0, stats.written - written))
        self._lost.inc(max(0, stats.lost - lost))
        self._failed.inc(max(0, stats.failed - failed))
        self._depth.set(stats.queue_depth)
        self._copied = (
            max(written, stats.written),
            max(lost, stats.lost),
            max(failed, stats.failed),
        )


class _AuditCollector(Collector):
    """The audit store sinks' counts (`AuditLog.stats`), read at scrape time."""

    def __init__(self, read: Callable[[], AuditStats]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        stats = self._read()
        counters = (
            ("bridge_audit_events_written", "audit events stored", stats.written),
            ("bridge_audit_events_lost", "audit events lost (store refused or down past "
             "the retry bound, or queue full)", stats.lost),
            ("bridge_audit_store_errors", "audit events lost because the store refused them "
             "or stayed down past the retry bound", stats.failed),
        )  # fmt: skip
        for name, documentation, count in counters:
            family = CounterMetricFamily(name, documentation + ", since the process started")
            family.add_metric([], float(count))
            yield family
        depth = GaugeMetricFamily(
            "bridge_audit_queue_depth", "audit events queued or being written to the store"
        )
        depth.add_metric([], float(stats.queue_depth))
        yield depth


def _cut(value: str) -> str:
    return value[:MAX_LABEL]


class ObservedOneTimeUse:
    """A one-time-use store whose faults are counted (and still raised: fail closed)."""

    def __init__(self, inner: OneTimeUse, on_error: Callable[[], None]) -> None:
        self._inner = inner
        self._on_error = on_error

    def use_once(self, key: str, expires_at: datetime) -> bool:
        try:
            return self._inner.use_once(key, expires_at)
        except StorageUnavailable:
            self._on_error()
            raise


class ObservedAuthorizer(Authorizer):
    """An `Authorizer` whose every decision is counted with its effect and latency."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    def decide(self, *args: Any, **kwargs: Any) -> Decision:
        started = time.perf_counter()
        decision = super().decide(*args, **kwargs)
        self._metrics.decision(decision.effect, time.perf_counter() - started)
        return decision
