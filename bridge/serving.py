"""`bridge serve`: the development server, or gunicorn with several workers."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from bridge.errors import ClientFault
from bridge.logging_setup import chosen_format, configure_audit_stream, configure_logging
from bridge.settings import CONFIG_FILE, Settings, load_settings

# Below gunicorn's graceful timeout (30 s), so a draining worker is not killed mid-write.
AUDIT_DRAIN_SECONDS = 20.0


def serve(home: Path, *, host: str, port: int, workers: int | None) -> None:
    settings = prepare_settings(home, host=host, port=port)
    configure_logging(settings.log_level, chosen_format(settings.log_format, "json"))
    configure_audit_stream(settings.audit_stream, settings.home)
    # The app writes each access line itself (`bridge.access`, with the request id).
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if workers:
        _serve_gunicorn(settings, host, port, workers)
    else:
        _serve_development(settings, host, port)


def prepare_settings(home: Path, *, host: str, port: int) -> Settings:
    """Load settings for a home that `bridge init` made; default the base URL to host:port."""
    if not (home / CONFIG_FILE).exists():
        raise ClientFault(f"`{home}` is not a bridge home; run `bridge init --home {home}` first")
    settings = load_settings(home)
    if settings.base_url is None:
        settings = settings.model_copy(update={"base_url": f"http://{_url_host(host)}:{port}"})
    _require_current_schema(settings)
    return settings


def _require_current_schema(settings: Settings) -> None:
    """Production: refuse to start on a schema behind the code (migrations run only by
    `bridge db upgrade`, never on start). Development: upgrade it, loudly."""
    from bridge.storage import migrate

    url = settings.effective_database_url
    if migrate.is_current(url):
        return
    found = migrate.current(url)
    if not settings.development:
        raise ClientFault(
            f"the database is not at the latest migration (now `{found}`, "
            f"expected `{migrate.head()}`); run `bridge db upgrade` first"
        )
    print(f"development mode: upgrading the database from `{found}` to `{migrate.head()}`")
    migrate.upgrade(url)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _serve_development(settings: Settings, host: str, port: int) -> None:
    from bridge.app import create_app

    app = create_app(settings)
    print(f"bridge serving {settings.base_url} (development server; use --workers in production)")
    # SIGTERM would end the process without cleanup: exit so the audit queue drains first.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    finally:
        drain_audit(app)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def drain_audit(app: Any, timeout: float = AUDIT_DRAIN_SECONDS) -> None:
    """Store the audit events `app` still has queued (at most `timeout` seconds), then stop
    its writer; what cannot be stored in time is counted lost and logged."""
    services = app.extensions["bridge"]
    if not services.audit.close(timeout):
        logging.getLogger("bridge").error(
            "audit queue not drained at shutdown: %s", services.audit.stats()
        )


def _serve_gunicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from bridge.app import create_app
    from bridge.observability import process_ended, share_between_processes

    # The workers' metrics, summed at every scrape (removed when the server stops).
    shared = tempfile.mkdtemp(prefix="bridge-metrics-")
    atexit.register(_remove_in, os.getpid(), shared)  # workers inherit it: master only
    share_between_processes(shared)
    loaded: list[Any] = []  # the app this worker process built (workers do not share it)

    def worker_exit(_server: Any, worker: Any) -> None:
        """A worker ending gracefully (SIGTERM, max requests) drains its audit queue."""
        for app in loaded:
            drain_audit(app)
        process_ended(worker.pid)

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{_url_host(host)}:{port}")
            self.cfg.set("workers", workers)
            # No gunicorn access log: the app writes one `bridge.access` line per request,
            # with the request id and without the query string.
            self.cfg.set("accesslog", None)
            self.cfg.set("worker_exit", worker_exit)

        def load(self) -> Any:
            loaded.append(create_app(settings))
            return loaded[-1]

    _Gunicorn().run()


def _remove_in(pid: int, folder: str) -> None:
    """Remove `folder` when the process exiting is `pid` (not a forked worker)."""
    if os.getpid() == pid:
        shutil.rmtree(folder, ignore_errors=True)
