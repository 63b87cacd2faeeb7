"""`Metrics`: one registry per app, typed counters with bounded labels, and the observers
that JWKS and metadata refreshes, the replay cache and audit losses report through."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import prometheus_client
import pytest

from bridge.audit import AuditStats
from bridge.clock import FixedClock, SystemRandom
from bridge.directory import Directory, HashingConfig
from bridge.errors import StorageUnavailable
from bridge.metadata_refresh import MetadataRefresher
from bridge.observability import MAX_LABEL, Metrics, ObservedOneTimeUse
from bridge.storage.memory import MemoryStore
from bridge.storage.redis_once import RedisOneTimeUse
from bridge.verify.errors import IdPCommunicationError
from bridge.verify.http import UrlFetcher
from bridge.verify.jwks import JWKSCache, LoadedKeys
from tests.data.saml.gen import NOW, build_metadata, keypair
from tests.unit.directory.directory_support import AesGcmSealer

DEAD_REDIS = "redis://127.0.0.1:1/0"
CLOCK = FixedClock()

Labels = dict[str, str]


def value(metrics: Metrics, name: str, labels: Labels | None = None) -> float:
    found = metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if found is None else found


@pytest.mark.parametrize(
    ("record", "sample", "labels", "expected"),
    [
        pytest.param(
            lambda m: m.request("/", "POST", 200, 0.01),
            "bridge_http_requests_total",
            {"endpoint": "/", "method": "POST", "status": "200"},
            1.0,
            id="request-count",
        ),
        pytest.param(
            lambda m: m.request("/v1/authorize", "POST", 403, 0.2),
            "bridge_http_request_duration_seconds_sum",
            {"endpoint": "/v1/authorize"},
            0.2,
            id="request-latency",
        ),
        pytest.param(
            lambda m: m.sign_in("arn:aws:iam::123456789012:saml-provider/corp", "success"),
            "bridge_sign_ins_total",
            {"provider": "arn:aws:iam::123456789012:saml-provider/corp", "result": "success"},
            1.0,
            id="sign-in",
        ),
        pytest.param(
            lambda m: m.refusal("Throttling"),
            "bridge_refusals_total",
            {"reason": "Throttling"},
            1.0,
            id="refusal",
        ),
        pytest.param(
            lambda m: m.credentials_issued("AssumeRoleWithSAML"),
            "bridge_credentials_issued_total",
            {"kind": "AssumeRoleWithSAML"},
            1.0,
            id="credentials",
        ),
        pytest.param(
            lambda m: m.decision("explicitDeny", 0.003),
            "bridge_decision_duration_seconds_count",
            {"effect": "explicitDeny"},
            1.0,
            id="decision",
        ),
        pytest.param(
            lambda m: m.idp_refresh("jwks", ok=False),
            "bridge_idp_refreshes_total",
            {"kind": "jwks", "result": "failure"},
            1.0,
            id="jwks-failure",
        ),
        pytest.param(
            lambda m: m.replay_cache_error(),
            "bridge_replay_cache_errors_total",
            {},
            1.0,
            id="replay-cache",
        ),
        pytest.param(
            lambda m: m.throttled("sts"),
            "bridge_rate_limited_total",
            {"scope": "sts"},
            1.0,
            id="throttled",
        ),
        pytest.param(
            lambda m: m.rate_limiter_error(),
            "bridge_rate_limiter_errors_total",
            {},
            1.0,
            id="rate-limiter-error",
        ),
    ],
)
def test_each_method_counts_under_its_name_and_labels(
    record: Callable[[Metrics], None], sample: str, labels: Labels, expected: float
) -> None:
    metrics = Metrics()
    assert value(metrics, sample, labels) == 0.0
    record(metrics)
    assert value(metrics, sample, labels) == pytest.approx(expected)


def test_each_app_counts_on_its_own_registry_never_the_global_one() -> None:
    first, second = Metrics(), Metrics()
    first.refusal("AccessDenied")
    assert value(first, "bridge_refusals_total", {"reason": "AccessDenied"}) == 1.0
    assert value(second, "bridge_refusals_total", {"reason": "AccessDenied"}) == 0.0
    global_names = {m.name for m in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("bridge_") for name in global_names)


def test_exposition_is_prometheus_text_with_labels() -> None:
    metrics = Metrics()
    metrics.request("/", "POST", 400, 0.05)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    text = body.decode()
    assert 'bridge_http_requests_total{endpoint="/",method="POST",status="400"} 1.0' in text
    assert "# TYPE bridge_http_request_duration_seconds histogram" in text


def test_long_label_values_are_cut() -> None:
    metrics = Metrics()
    metrics.sign_in("p" * 5000, "failure")
    assert (
        value(metrics, "bridge_sign_ins_total", {"provider": "p" * MAX_LABEL, "result": "failure"})
        == 1.0
    )


AUDIT_SAMPLES = (
    "bridge_audit_queue_depth",
    "bridge_audit_events_written_total",
    "bridge_audit_events_lost_total",
    "bridge_audit_store_errors_total",
)


def test_audit_counts_are_read_at_scrape_time() -> None:
    now = [AuditStats()]
    metrics = Metrics(audit=lambda: now[0])

    def read() -> list[float | None]:
        return [metrics.registry.get_sample_value(name) for name in AUDIT_SAMPLES]

    assert read() == [0.0, 0.0, 0.0, 0.0]
    now[0] = AuditStats(queue_depth=7, written=40, failed=3, dropped=2)
    assert read() == [7.0, 40.0, 5.0, 3.0]


def test_replay_cache_faults_are_counted_and_still_fail_closed() -> None:
    metrics = Metrics()
    dead = RedisOneTimeUse(DEAD_REDIS, clock=CLOCK, timeout=1)
    observed = ObservedOneTimeUse(dead, metrics.replay_cache_error)
    try:
        with pytest.raises(StorageUnavailable):
            observed.use_once("assertion-1", CLOCK.now() + timedelta(minutes=5))
    finally:
        dead.close()
    assert value(metrics, "bridge_replay_cache_errors_total") == 1.0


def test_replay_cache_answers_pass_through_uncounted() -> None:
    metrics = Metrics()
    observed = ObservedOneTimeUse(MemoryStore(clock=CLOCK), metrics.replay_cache_error)
    later = CLOCK.now() + timedelta(minutes=5)
    assert [observed.use_once("k", later), observed.use_once("k", later)] == [True, False]
    assert value(metrics, "bridge_replay_cache_errors_total") == 0.0


def _failing_load() -> LoadedKeys:
    raise IdPCommunicationError("JWKS at `https://idp.example/jwks` answered HTTP 500, not 200")


@pytest.mark.parametrize(
    ("load", "result"),
    [
        pytest.param(lambda: LoadedKeys(({"kid": "a", "kty": "RSA"},)), "success", id="fetched"),
        pytest.param(_failing_load, "failure", id="failed"),
    ],
)
def test_jwks_fetches_are_reported(load: Callable[[], LoadedKeys], result: str) -> None:
    metrics = Metrics()
    cache = JWKSCache(on_refresh=lambda ok: metrics.idp_refresh("jwks", ok))
    try:
        cache.find("https://idp.example", lambda keys: None, now=CLOCK.now(), load=load)
    except IdPCommunicationError:
        assert result == "failure"
    labels = {"kind": "jwks", "result": result}
    assert value(metrics, "bridge_idp_refreshes_total", labels) == 1.0


@pytest.fixture
def metadata_url() -> Iterator[str]:
    body = build_metadata(keypair("idp")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/md"
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("path", "result"),
    [pytest.param("/md", "success", id="fetched"), pytest.param("/gone", "failure", id="404")],
)
def test_metadata_refreshes_are_reported(metadata_url: str, path: str, result: str) -> None:
    clock = FixedClock(NOW)
    directory = Directory(
        MemoryStore(clock=clock),
        account_id="123456789012",
        sealer=AesGcmSealer(bytes(32)),
        clock=clock,
        rng=SystemRandom(),
        hasher=HashingConfig(time_cost=1, memory_cost_kib=8, parallelism=1),
    )
    metrics = Metrics()
    refresher = MetadataRefresher(
        directory,
        UrlFetcher(timeout_seconds=2),
        clock,
        urls={"corp": metadata_url + path},
        on_refresh=lambda ok: metrics.idp_refresh("metadata", ok),
    )
    refresher.refresh_due()
    labels = {"kind": "metadata", "result": result}
    assert value(metrics, "bridge_idp_refreshes_total", labels) == 1.0
