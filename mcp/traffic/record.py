"""Each session's recent traffic: the last MCP_TRAFFIC_LOG HTTP exchanges, kept with the session.

The record is the session's log in the session store (``SessionStore.append_log``), so it
lives and dies with the session: the store deletes it with the session record, and a write
to a session that is gone is a no-op. Each entry is stored compactly (``mcp.traffic.codec``:
compressed JSON) and read back as a JSON object:

``{"t": arrival (epoch seconds), "ms": duration, "http": "POST"|"GET"|"DELETE", "path": str,
"status": int, "method": JSON-RPC method or null, "id": JSON-RPC id or null,
"era": "2025"|"2026"|"legacy", "headers": {name: masked value}, "request": excerpt,
"response": excerpt, "response_headers": {name: masked value}, "marks": [fault kinds],
"name": the tool, resource URI or prompt the request named, or null, "outcome": "ok"|"4xx"|
"5xx"|"jsonrpc_error" (``mcp.figures``), "tool_error": a tool result with isError,
"trace": the verdict on the request's trace context (``mcp.telemetry.carrier.report``), only
when it carried some or the server traced it}``

Guarantees:
- Recording is write-behind: ``record`` queues the entry and returns. The entries of one
  event-loop turn are compressed together right after it and handed to the store: in
  memory mode a list append; in Redis mode one pipeline for all of them, so an entry is
  written within one store round trip after its exchange ends, and under load many
  exchanges share that round trip. A reader in the same process (``recent``) sees every
  exchange recorded before it read. Nothing at all happens with MCP_TRAFFIC_LOG=0.
- Bounded: at most MCP_TRAFFIC_LOG entries per session, each excerpt at most
  MCP_TRAFFIC_EXCERPT_BYTES bytes of UTF-8 (cut on a character boundary, marked with "…"),
  and at most MCP_TRAFFIC_MAX_HEADERS headers of at most MCP_TRAFFIC_MAX_HEADER_BYTES bytes
  (names and shown values) each way; the rest is one entry "…": "N more headers, M bytes".
  So an export is bounded too: entries x (2 excerpts + 2 header sets).
- No credential is kept: header values are masked exactly as the printHeader tool masks
  them (``mcp.redact.shown_header``), and excerpts go through ``redact_text``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from mcp.redact import describe_exception, redact_text, shown_header
from mcp.traffic import codec as traffic_codec

if TYPE_CHECKING:
    from mcp.store import SessionStore

ERAS = ("2025", "2026", "legacy")

logger = logging.getLogger("mcp.traffic")
ELLIPSIS = "…"
# The key that summarises the headers past MCP_TRAFFIC_MAX_HEADERS / _BYTES (not a header name).
MORE_HEADERS = "…"


class Bounds(NamedTuple):
    entries: int  # MCP_TRAFFIC_LOG
    excerpt_bytes: int  # MCP_TRAFFIC_EXCERPT_BYTES
    headers: int  # MCP_TRAFFIC_MAX_HEADERS
    header_bytes: int  # MCP_TRAFFIC_MAX_HEADER_BYTES


@cache
def bounds() -> Bounds:
    """The record's settings, read once (every exchange needs them; a change is signalled)."""
    return Bounds(
        settings.MCP_TRAFFIC_LOG,
        settings.MCP_TRAFFIC_EXCERPT_BYTES,
        settings.MCP_TRAFFIC_MAX_HEADERS,
        settings.MCP_TRAFFIC_MAX_HEADER_BYTES,
    )


@receiver(setting_changed)
def _forget_bounds(*, setting: str, **_: object) -> None:
    if setting.startswith("MCP_TRAFFIC_"):
        bounds.cache_clear()


def enabled() -> bool:
    return bounds().entries > 0


def excerpt(data: bytes | str | None, limit: int | None = None) -> str:
    """At most ``limit`` bytes of UTF-8 (MCP_TRAFFIC_EXCERPT_BYTES), credentials masked."""
    limit = bounds().excerpt_bytes if limit is None else limit
    if data is None:
        return ""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    # Cut before masking (masking only shortens), then cut again on a character boundary.
    text = redact_text(raw[: limit * 2].decode("utf-8", "replace"))
    encoded = text.encode("utf-8")
    if len(encoded) <= limit and len(raw) <= limit * 2:
        return text
    room = max(0, limit - len(ELLIPSIS.encode()))
    return encoded[:room].decode("utf-8", "ignore") + ELLIPSIS


@lru_cache(maxsize=2048)
def _masked(name: str, value: str) -> str:
    return shown_header(name, value)


_PROBE = "0123456789abcdef"


@lru_cache(maxsize=512)
def _masks_by_name(name: str) -> bool:
    """Whether printHeader masks this header whatever its value (Authorization, *-token…).
    For the others, a short alphanumeric value (a length, an id) holds nothing to mask and
    is shown as it is: masking looks at the name, then at credential-like text."""
    return shown_header(name, _PROBE) != _PROBE


def masked_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; values masked as printHeader masks them; at most
    MCP_TRAFFIC_MAX_HEADERS headers of at most MCP_TRAFFIC_MAX_HEADER_BYTES (names and shown
    values) in all, the rest summarised under ``MORE_HEADERS`` ("N more headers, M bytes",
    counted as received).

    A client sends mostly the same headers on every request: their masked forms are cached
    (short values only; the cache holds nothing the process does not already see). Values
    that change on every request (lengths, ids) skip the cache when they are plain.
    """
    pairs = list(headers.items()) if isinstance(headers, Mapping) else headers
    if not isinstance(pairs, list):
        pairs = list(pairs)
    limit, room = bounds()[2:]
    head = pairs if len(pairs) <= limit else pairs[:limit]
    shown = _mask_all(head)
    # The usual request: within both bounds, checked with one count of the bytes.
    if head is pairs and sum(map(len, shown)) + sum(map(len, shown.values())) <= room:
        return shown
    return _bounded(shown, head, pairs[len(head) :], room)


def _mask_all(pairs: list[tuple[str, str]]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in pairs:
        name = name.lower()
        if len(value) <= 64 and value.isalnum() and value.isascii() and not _masks_by_name(name):
            shown[name] = value
        elif len(value) <= 512:
            shown[name] = _masked(name, value)
        else:
            shown[name] = shown_header(name, value)
    return shown


def _bounded(
    shown: dict[str, str], head: list[tuple[str, str]], rest: list[tuple[str, str]], room: int
) -> dict[str, str]:
    """The headers of ``head`` (masked in ``shown``) that fit in ``room`` bytes, in order; the
    others and ``rest`` summarised."""
    kept: dict[str, str] = {}
    more = len(rest)
    more_bytes = sum(len(name) + len(value) for name, value in rest)
    for name, value in head:
        key = name.lower()
        size = len(key) + len(shown[key])
        if size > room:
            more += 1
            more_bytes += len(name) + len(value)
            continue
        kept[key] = shown[key]
        room -= size
    if more:
        kept[MORE_HEADERS] = f"{more} more headers, {more_bytes} bytes"
    return kept


def make_entry(
    *,
    t: float,
    ms: float,
    http: str,
    path: str,
    status: int,
    method: str | None = None,
    request_id: Any = None,
    era: str = "2025",
    headers: Mapping[str, str] | None = None,
    request: bytes | str | None = None,
    response: bytes | str | None = None,
    response_headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    marks: Iterable[str] = (),
    name: str | None = None,
    outcome: str = "ok",
    tool_error: bool = False,
    trace: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One entry in the documented shape, bounded and masked; ``trace`` (the verdict on the
    request's trace context, ``mcp.telemetry.carrier.report``) only when there is one."""
    entry = {
        "t": round(t, 6),
        "ms": round(ms, 3),
        "http": http,
        "path": path,
        "status": int(status),
        "method": method,
        "id": request_id if isinstance(request_id, str | int) and not isinstance(request_id, bool) else None,
        "era": era if era in ERAS else "2025",
        "headers": masked_headers(headers or {}),
        "request": excerpt(request),
        "response": excerpt(response),
        "response_headers": masked_headers(response_headers or {}),
        "marks": [str(mark) for mark in marks],
        "name": name,
        "outcome": outcome,
        "tool_error": bool(tool_error),
    }
    if trace:
        entry["trace"] = dict(trace)
    return entry


class _Queue:
    """Entries recorded during one event-loop turn, encoded together after it.

    Encoding one entry alone costs several times what it costs in a run of entries (the
    compressor's code and tables are cold after a request's work), and under load many
    exchanges end in one turn: they share one warm run, off the requests' own path.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[SessionStore, str, dict[str, Any], int]] = []
        self.scheduled_on: asyncio.AbstractEventLoop | None = None

    def add(self, store: SessionStore, session_id: str, entry: dict[str, Any], cap: int) -> None:
        self.entries.append((store, session_id, entry, cap))
        loop = asyncio.get_running_loop()
        # A loop that ended with the call pending never runs it: this loop takes over.
        if self.scheduled_on is not loop:
            self.scheduled_on = loop
            loop.call_soon(self.encode)

    def encode(self) -> None:
        """Hand every queued entry, encoded, to its store (in the order recorded)."""
        self.scheduled_on = None
        entries, self.entries = self.entries, []
        for store, session_id, entry, cap in entries:
            try:
                store.append_log(session_id, traffic_codec.encode(entry, session_id), cap=cap)
            except Exception as exc:
                logger.warning("traffic not recorded: %s", describe_exception(exc))


_queue = _Queue()


async def record(store: SessionStore, session_id: str, entry: dict[str, Any]) -> None:
    """Append ``entry`` to the session's record (oldest dropped past MCP_TRAFFIC_LOG).

    Queued, not awaited (see the module docstring); nothing happens when recording is off
    or the session is gone.
    """
    cap = bounds().entries
    if cap > 0:
        _queue.add(store, session_id, entry, cap)


async def recent(store: SessionStore, session_id: str) -> list[dict[str, Any]]:
    """The session's recorded exchanges, oldest first ([] for an unknown session).

    Stored entries that do not decode (an unknown format version) are left out.
    """
    _queue.encode()  # read-your-writes: what this process recorded is in the log first
    entries = (traffic_codec.decode(blob, session_id) for blob in await store.read_log(session_id))
    return [entry for entry in entries if entry is not None]
