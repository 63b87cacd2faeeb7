"""Log lines: JSON with the request id inside a request, text for the CLI, and access lines
that never carry a query string."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.app import create_app
from bridge.bootstrap import initialise_home
from bridge.logging_setup import (
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    bind_request_id,
    chosen_format,
    configure_logging,
    unbind_request_id,
)
from bridge.settings import load_settings

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Root logging to a string while the test runs; the root logger is restored after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    yield out
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logging") / "home"
    initialise_home(path, account_id="123456789012", force=False, environ={})
    return path


def test_every_line_written_in_a_request_carries_its_request_id(
    home: Path, stream: io.StringIO
) -> None:
    app = create_app(load_settings(home, environ={}))

    def noisy() -> str:
        logging.getLogger("bridge.test").warning("inside the request")
        return "ok"

    app.add_url_rule("/noisy", view_func=noisy)
    response = app.test_client().get("/noisy")
    logging.getLogger("bridge.test").warning("after the request")
    written = {line["message"]: line for line in lines(stream)}
    inside, after = written["inside the request"], written["after the request"]
    assert inside["request_id"] == response.headers["x-amzn-RequestId"] != ""
    assert inside["level"] == "WARNING" and inside["logger"] == "bridge.test"
    assert after["request_id"] is None


def _record(name: str, message: str, *, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("broken")
        except ValueError:
            info = sys.exc_info()
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, info)
    RequestIdFilter().filter(record)
    return record


ACCESS = (
    f'127.0.0.1 - - [27/Nov/2026 10:00:00] "GET /?Action=X&WebIdentityToken={TOKEN} HTTP/1.1" 400 -'
)


@pytest.mark.parametrize(
    ("record", "field", "expected"),
    [
        pytest.param(
            _record("werkzeug", ACCESS),
            "message",
            '127.0.0.1 - - [27/Nov/2026 10:00:00] "GET /?… HTTP/1.1" 400 -',
            id="access-line-loses-its-query",
        ),
        pytest.param(_record("bridge", "plain message"), "message", "plain message", id="message"),
        pytest.param(_record("bridge", "m"), "level", "ERROR", id="level"),
        pytest.param(_record("bridge.audit", "m"), "logger", "bridge.audit", id="logger"),
        pytest.param(_record("bridge", "m"), "request_id", None, id="no-request"),
    ],
)
def test_json_line_fields(record: logging.LogRecord, field: str, expected: object) -> None:
    assert json.loads(JsonFormatter().format(record))[field] == expected


def test_json_line_carries_the_exception_and_time() -> None:
    line = json.loads(JsonFormatter().format(_record("bridge", "failed", exc=True)))
    assert "ValueError: broken" in str(line["exception"])
    assert str(line["time"]).endswith("+00:00")


def test_text_line_has_the_request_id_and_no_query() -> None:
    token = bind_request_id("rid-123")
    try:
        record = _record("werkzeug", ACCESS)
    finally:
        unbind_request_id(token)
    text = TextFormatter().format(record)
    assert "[rid-123]" in text
    assert TOKEN not in text


def test_configuring_again_replaces_the_handler(stream: io.StringIO) -> None:
    other = io.StringIO()
    configure_logging("WARNING", "text", stream=other)
    logging.getLogger("bridge.test").warning("once")
    assert stream.getvalue() == ""
    assert other.getvalue().count("once") == 1
    assert logging.getLogger().level == logging.WARNING


@pytest.mark.parametrize(
    ("configured", "default", "expected"),
    [
        pytest.param(None, "json", "json", id="serve-default"),
        pytest.param(None, "text", "text", id="cli-default"),
        pytest.param("text", "json", "text", id="configured-text"),
        pytest.param("json", "text", "json", id="configured-json"),
    ],
)
def test_chosen_format(configured: str | None, default: str, expected: str) -> None:
    assert chosen_format(configured, default) == expected  # type: ignore[arg-type]
