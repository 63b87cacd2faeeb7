"""`bridge serve`: the development server, or gunicorn with several workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.errors import ClientFault
from bridge.settings import CONFIG_FILE, Settings, load_settings


def serve(home: Path, *, host: str, port: int, workers: int | None) -> None:
    settings = prepare_settings(home, host=host, port=port)
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
    from bridge.storage import migrate

    url = settings.effective_database_url
    if not migrate.is_current(url):
        raise ClientFault(
            f"the database is not at the latest migration (now `{migrate.current(url)}`); "
            "run `bridge db upgrade` first"
        )


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

        def load(self) -> Any:
            return create_app(settings)

    _Gunicorn().run()
