"""`bridge serve`: the development server, or gunicorn with several workers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bridge.errors import ClientFault
from bridge.logging_setup import chosen_format, configure_logging
from bridge.settings import CONFIG_FILE, Settings, load_settings

# gunicorn's access line without the query string (`%(U)s`, not `%(r)s`): an unsigned STS
# call can carry a SAML assertion or a web identity token there. `%(L)s`: seconds taken.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)s %({x-amzn-requestid}o)s'


def serve(home: Path, *, host: str, port: int, workers: int | None) -> None:
    settings = prepare_settings(home, host=host, port=port)
    configure_logging(settings.log_level, chosen_format(settings.log_format, "json"))
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
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


def _serve_gunicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    from bridge.app import create_app

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{_url_host(host)}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)

        def load(self) -> Any:
            return create_app(settings)

    _Gunicorn().run()
