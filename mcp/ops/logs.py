"""Log output: LOG_FORMAT=json's formatter, and the access log line every request gets.

The access line is written by the ASGI application itself (``echoserver.asgi``), so every way
of running the server logs the same line: the console script, ``manage.py runserver``,
uvicorn or gunicorn. It never holds a query string, a header value or a body: only the
method, the path, the status, the size, the duration, the client address, a request id
(also sent back as ``X-Request-Id``) and, for /mcp, a shortened session id.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings

from mcp.redact import redact_text

access_logger = logging.getLogger("mcp.access")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# LogRecord attributes that are not extra fields.
# uvicorn's ``color_message`` is its message again with ANSI colour escapes, for its own console
# formatter: never a field of a JSON line.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}


# Request ids: a random prefix per process and a counter (no system call per request).
_process_prefix = secrets.token_hex(3)
_request_counter = itertools.count(1)


def new_request_id() -> str:
    """12 hex characters, unique within the process and, by its random half, across processes."""
    return f"{_process_prefix}{next(_request_counter) & 0xFFFFFF:06x}"


def lean_records() -> None:
    """Log records without the caller's file, line and function (the logging module's
    documented optimisation): no format here shows them, and every request makes a record
    (the access line), every session another. A host's format that does show them (a
    gunicorn ``--log-config``) prints placeholders, never fails. The thread and process
    fields stay: gunicorn's own format prints ``%(process)d``."""
    logging._srcfile = None


def short_id(session_id: str | None) -> str:
    """The first 8 characters: enough to tell sessions apart, useless to hijack one."""
    if not session_id:
        return ""
    return session_id[:8] + "…" if len(session_id) > 8 else session_id


class PlainFormatter(logging.Formatter):
    """LOG_FORMAT=plain: ``time level logger: message``, the time's date and clock formatted
    once per second rather than once per line (its output is the standard Formatter's)."""

    def __init__(self, fmt: str = PLAIN_FORMAT, datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt or self.datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second
        return self.default_msec_format % (self._stamp, record.msecs)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        return orjson.dumps(entry, default=str).decode()


def log_access(
    *,
    request_id: str,
    method: str,
    path: str,
    status: int,
    size: int,
    ms: float,
    client: str,
    session: str | None = None,
) -> None:
    """One line on ``mcp.access``, composed here of facts that hold no credential (the path is
    masked like any text), so the redacting filter lets it through untouched; the record
    carries the fields as extras only for LOG_FORMAT=json (the plain format does not show them).
    """
    if not access_logger.isEnabledFor(logging.INFO):
        return
    shown = short_id(session)
    path = redact_text(path[:200])
    message = f"{method} {path} {status} {size}B {ms:.1f}ms {client or '-'} rid={request_id}" + (
        f" sid={shown}" if shown else ""
    )
    extra = None
    if settings.LOG_FORMAT == "json":
        extra = {
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "bytes": size,
            "duration_ms": round(ms, 2),
            "client": client,
            **({"session": shown} if shown else {}),
        }
    access_logger.info(message, extra=extra)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own loggers in the same format and filter as the application's.

    Its access log stays quiet: the application writes one line per request itself.
    """
    formatter = settings.LOG_FORMAT
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "mcp.redact.RedactingFilter"}},
        "formatters": {
            "plain": {"()": "mcp.ops.logs.PlainFormatter"},
            "json": {"()": "mcp.ops.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": formatter, "filters": ["redact"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["console"], "level": settings.LOG_LEVEL, "propagate": False},
            "uvicorn.error": {"level": settings.LOG_LEVEL},
            "uvicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }
