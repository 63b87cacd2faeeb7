"""Log lines: JSON (one object a line) for `bridge serve`, plain text for the CLI commands.

Every line carries the request id of the request it was written for: the app binds it
with `bind_request_id` when a request starts (a context variable, so no Flask here) and a
`logging.Filter` puts it on each record. Access lines (werkzeug's, gunicorn's) lose their
query string before they are written: an unsigned STS call may carry a SAML assertion
or a web identity token there, and an OIDC callback its authorization code.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

LogFormat = Literal["json", "text"]

_REQUEST_ID: ContextVar[str | None] = ContextVar("bridge_request_id", default=None)
# `GET /path?query HTTP/1.1` in an access line → `GET /path?… HTTP/1.1`
_REQUEST_LINE_QUERY = re.compile(r'\b([A-Z]{3,7} /[^ ?"]*)\?[^ "]*')
_ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours its access lines
_HANDLER_MARK = "_bridge_handler"
AUDIT_LOGGER = "bridge.audit"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def bind_request_id(request_id: str) -> Token[str | None]:
    """Mark the log lines written from here (in this context) with `request_id`."""
    return _REQUEST_ID.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _REQUEST_ID.reset(token)


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Sets `record.request_id`: the bound request id, None outside a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get()
        return True


def safe_message(record: logging.LogRecord) -> str:
    """The record's message without terminal colours and without the query string of any
    request line."""
    plain = _ANSI_STYLE.sub("", record.getMessage())
    return _REQUEST_LINE_QUERY.sub(r"\1?…", plain)


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id"[, "exception"]}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == AUDIT_LOGGER and not record.args and not record.exc_info:
            return self._audit_line(record)
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": safe_message(record).rstrip("\n"),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)

    @staticmethod
    def _audit_line(record: logging.LogRecord) -> str:
        """An audit event is our own redacted JSON object (`AuditEvent.to_json`): it becomes
        the line's `message` as an object, spliced in, neither encoded again as a string
        nor searched for terminal colours or query strings (every request writes one)."""
        event = str(record.msg)
        if not (event.startswith("{") and event.endswith("}")):
            event = json.dumps(event, ensure_ascii=False)
        head = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
        }
        return f'{json.dumps(head, ensure_ascii=False)[:-1]}, "message": {event}}}'


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = safe_message(record).rstrip("\n")
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().formatMessage(record)


def configure_logging(level: str, log_format: LogFormat, stream: TextIO | None = None) -> None:
    """One handler on the root logger (replacing the one installed before, if any)."""
    _skip_unused_record_fields()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def _skip_unused_record_fields() -> None:
    """No line shows the caller's file, thread or process, and finding them costs more
    than formatting the line (every request logs): skip them."""
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def chosen_format(configured: str | None, default: LogFormat) -> LogFormat:
    """`log_format` from the settings, else the command's default."""
    return "text" if (configured or default) == "text" else "json"


_AUDIT_MARK = "_bridge_audit_handler"


def configure_audit_stream(target: str | None, home: Path) -> Path | None:
    """Send the audit JSON lines (`bridge.audit`) to their own stream, one event per line
    and nothing else, instead of mixing them into the logs; the file path when a file."""
    logger = logging.getLogger(AUDIT_LOGGER)
    for old in [h for h in logger.handlers if getattr(h, _AUDIT_MARK, False)]:
        logger.removeHandler(old)
        old.close()
    if not target:
        logger.propagate = True
        return None
    path: Path | None = None
    if target in {"stdout", "stderr"}:
        handler: logging.Handler = logging.StreamHandler(getattr(sys, target))
    else:
        path = Path(target) if Path(target).is_absolute() else home / target
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handler = logging.FileHandler(path, encoding="utf-8")
    setattr(handler, _AUDIT_MARK, True)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return path
