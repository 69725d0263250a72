"""Log output: LOG_FORMAT=json's formatter, and the access log line every request gets.

The access line is written by the ASGI application itself (``echoserver.asgi``), so every way
of running the server logs the same line: the console script, ``manage.py runserver``,
uvicorn or gunicorn. It never holds a query string, a header value or a body: only the
method, the path, the status, the size, the duration, the client address, a request id
(also sent back as ``X-Request-Id``) and, for /mcp, a shortened session id.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson

access_logger = logging.getLogger("mcp.access")

# LogRecord attributes that are not extra fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def new_request_id() -> str:
    return secrets.token_hex(6)


def short_id(session_id: str | None) -> str:
    """The first 8 characters: enough to tell sessions apart, useless to hijack one."""
    if not session_id:
        return ""
    return session_id[:8] + "…" if len(session_id) > 8 else session_id


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
    if not access_logger.isEnabledFor(logging.INFO):
        return
    shown = short_id(session)
    access_logger.info(
        "%s %s %s %dB %.1fms %s rid=%s%s",
        method,
        path[:200],
        status,
        size,
        ms,
        client or "-",
        request_id,
        f" sid={shown}" if shown else "",
        extra={
            "request_id": request_id,
            "method": method,
            "path": path[:200],
            "status": status,
            "bytes": size,
            "duration_ms": round(ms, 2),
            "client": client,
            **({"session": shown} if shown else {}),
        },
    )


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own loggers in the same format and filter as the application's.

    Its access log stays quiet: the application writes one line per request itself.
    """
    from django.conf import settings

    formatter = settings.LOG_FORMAT
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "mcp.redact.RedactingFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
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
