"""The Server-Sent Events wire format (pure).

Each event is ``id``/``event``/``retry``/``data`` lines and a blank line. JSON is always one
line (orjson never emits newlines), so one ``data:`` line carries one message.
"""

from __future__ import annotations

CONTENT_TYPE = "text/event-stream"
# Proxies (nginx, Cloudflare) must neither buffer nor transform a stream.
HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
}


def event(
    data: bytes,
    *,
    id: str | None = None,
    name: str | None = "message",
    retry_ms: int | None = None,
) -> bytes:
    parts: list[bytes] = []
    if id is not None:
        parts.append(b"id: " + _line(id) + b"\n")
    if name is not None:
        parts.append(b"event: " + _line(name) + b"\n")
    if retry_ms is not None:
        parts.append(b"retry: %d\n" % retry_ms)
    parts.append(b"data: " + data + b"\n\n")
    return b"".join(parts)


def priming(id: str, retry_ms: int | None) -> bytes:
    """An event with an id and empty data, so a client can resume from the very start."""
    retry = b"retry: %d\n" % retry_ms if retry_ms is not None else b""
    return b"id: " + _line(id) + b"\n" + retry + b"data: \n\n"


def comment(text: str = "keep-alive") -> bytes:
    return b": " + _line(text) + b"\n\n"


def retry(retry_ms: int) -> bytes:
    return b"retry: %d\n\n" % retry_ms


def _line(value: str) -> bytes:
    return value.replace("\r", " ").replace("\n", " ").encode()
