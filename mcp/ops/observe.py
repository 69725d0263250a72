"""What the ASGI application notes about every HTTP exchange, whichever server runs it.

``Observer`` wraps the application's ``send`` and, when a response is complete (a stream
included):

- writes the access log line (``mcp.ops.logs``) with a request id, also sent back as
  ``X-Request-Id``;
- for the MCP endpoints, records the exchange's figure once (``mcp.figures``: method, outcome,
  latency or stream duration), which /status, /status.json, /metrics and any other exporter
  read, and records it in the session's traffic (``mcp.traffic.record``; nothing with
  MCP_TRAFFIC_LOG=0) with the tool, resource or prompt it named and its outcome;
- keeps the count of SSE responses open in this process (the heartbeat reports it).

It reads only what passes by: at most MCP_TRAFFIC_EXCERPT_BYTES of each response body is
kept. The request body and its JSON-RPC facts (method, id, tool) come from the MCP handler,
which has read and parsed them anyway (``scope["mcp.body"]``, ``scope["mcp.rpc"]``); a body
the transport did not parse is parsed here only when it is small JSON. Nothing is decoded
(headers) or built (the traffic entry) for a request that will not use it.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from django.conf import settings

from mcp import figures
from mcp import scope as scope_keys
from mcp.dispatch import sessions as sessions_table
from mcp.dispatch import stateless as stateless_table
from mcp.errors import RPC_ERRORS, TOOL_ERRORS, exchange_errors
from mcp.ops import logs, stats
from mcp.redact import describe_exception
from mcp.store import get_store
from mcp.telemetry import carrier
from mcp.traffic import record as traffic
from mcp.wire import jsonrpc

logger = logging.getLogger("mcp.ops")

PARSE_LIMIT = 256 * 1024
LEGACY_PATHS = ("/sse", "/messages")
SESSION_HEADER = b"mcp-session-id"
REQUEST_ID_HEADER = b"x-request-id"
EVENT_STREAM = b"text/event-stream"
# Method labels a client cannot grow: the methods some era's table answers.
KNOWN_METHODS = frozenset(
    {
        *sessions_table.METHODS,
        *sessions_table.NOTIFICATIONS,
        *stateless_table.METHODS,
        stateless_table.LISTEN,
        "initialize",
        "batch",
    }
)
NAMED = {"resources/read": "uri", "resources/subscribe": "uri", "prompts/get": "name"}


def method_label(http_method: str, method: str | None) -> str:
    if method is None:
        return http_method if http_method in ("GET", "DELETE") else figures.UNKNOWN
    return method if method in KNOWN_METHODS else figures.UNKNOWN


def stream_kind(http_method: str, path: str, method: str | None, streaming: bool) -> str | None:
    """Which long-lived stream the exchange was, if any (an SSE answer to a request is not one)."""
    if path == "/sse":
        return figures.LEGACY_STREAM
    if method == stateless_table.LISTEN:
        return figures.LISTEN_STREAM
    if http_method == "GET" and streaming:
        return figures.GET_STREAM
    return None


def target_name(method: str | None, tool: str | None, body: bytes) -> str | None:
    """The tool, resource or prompt an exchange named (for its traffic row), cut to 200."""
    if tool is not None:
        return tool[:200]
    field = NAMED.get(method or "")
    if field is None or len(body) > PARSE_LIMIT:
        return None
    try:
        params = orjson.loads(body).get("params")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    value = params.get(field) if isinstance(params, dict) else None
    return value[:200] if isinstance(value, str) else None


def rpc_facts(body: bytes) -> tuple[str | None, Any, str | None]:
    """(JSON-RPC method, id, tool name) of a small JSON body; Nones when it is not one."""
    if not body or len(body) > PARSE_LIMIT:
        return None, None, None
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None, None
    return jsonrpc.facts(message)


def decoded(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]


def find_header(headers: Any, name: bytes) -> bytes | None:
    """The first value of ``name`` (lower-case) in raw ASGI header pairs of any case."""
    for key, value in headers:
        if key == name or key.lower() == name:
            return value
    return None


def header_text(headers: Any, name: bytes) -> str | None:
    """``find_header`` as text (None when absent or empty)."""
    raw = find_header(headers, name)
    return raw.decode("latin-1") if raw else None


class Exchange:
    """One HTTP exchange as seen on the wire (bounded), kept raw until something reads it."""

    __slots__ = ("arrived", "mcp", "response", "response_headers", "size", "started", "status", "streaming")

    def __init__(self, mcp: bool) -> None:
        self.arrived = time.time()
        self.started = time.perf_counter()
        self.mcp = mcp
        self.response = b""
        self.response_headers: Any = ()
        self.status = 0
        self.size = 0
        self.streaming = False


class Observer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.mcp_paths = frozenset(settings.MCP_PATHS)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(scope["path"] in self.mcp_paths)
        request_id = logs.new_request_id()
        scope[scope_keys.REQUEST_ID] = request_id
        keep = settings.MCP_TRAFFIC_EXCERPT_BYTES if exchange.mcp else 0

        async def observed_send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                exchange.status = message["status"]
                headers = exchange.response_headers = [
                    *message.get("headers", ()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
                message["headers"] = headers
                content_type = find_header(headers, b"content-type")
                if content_type is not None and content_type.startswith(EVENT_STREAM):
                    exchange.streaming = True
                    stats.local["open_streams"] += 1
            elif kind == "http.response.body":
                chunk = message.get("body", b"")
                exchange.size += len(chunk)
                if keep and len(exchange.response) < keep:
                    exchange.response += chunk[: keep - len(exchange.response)]
            await send(message)

        errors = [0, 0]
        counting = exchange_errors.set(errors) if exchange.mcp else None
        try:
            await self.app(scope, receive, observed_send)
        finally:
            if counting is not None:
                exchange_errors.reset(counting)
            if exchange.streaming:
                stats.local["open_streams"] -= 1
            try:
                await self.finish(scope, exchange, request_id, errors[RPC_ERRORS], errors[TOOL_ERRORS])
            except Exception as exc:
                logger.warning("request %s not accounted: %s", request_id, describe_exception(exc))

    async def finish(
        self, scope: dict[str, Any], exchange: Exchange, request_id: str, rpc_errors: int, failed_tools: int
    ) -> None:
        ms = (time.perf_counter() - exchange.started) * 1000
        info = scope.get(scope_keys.INFO)
        # The request's headers as the MCP view parsed them (lower-case names), when it ran:
        # then the raw ones need no second look.
        parsed = info.headers if info is not None else None
        if parsed is not None:
            session_id = parsed.get("mcp-session-id")
        else:
            session_id = header_text(scope.get("headers", ()), SESSION_HEADER)
        if not session_id:  # initialize: the id the answer gave
            session_id = header_text(exchange.response_headers, SESSION_HEADER)
        path = scope["path"]
        if not session_id and path == "/messages":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            session_id = (query.get("sessionId") or [None])[0]
        if settings.MCP_ACCESS_LOG:
            logs.log_access(
                request_id=request_id,
                method=scope.get("method", ""),
                path=path,
                status=exchange.status,
                size=exchange.size,
                ms=ms,
                client=(scope.get("client") or ("", 0))[0],
                session=session_id,
            )
        if not exchange.mcp:
            return
        body = scope.get(scope_keys.BODY, b"")
        facts = scope.get(scope_keys.RPC)
        method, rpc_id, tool = facts if facts is not None else rpc_facts(body)
        http_method = scope.get("method", "")
        era = "legacy" if path in LEGACY_PATHS else scope.get(scope_keys.ERA, "2025")
        outcome = figures.outcome(exchange.status, rpc_errors > 0)
        figures.record_exchange(
            figures.Exchange(
                method=method_label(http_method, method),
                outcome=outcome,
                seconds=ms / 1000,
                stream=stream_kind(http_method, path, method, exchange.streaming),
                era=era,
            )
        )
        marks = getattr(info, "marks", None) or ()
        # A 404 names no live session, unless a fault expired it (its record stays, marked);
        # a DELETE that succeeded ended it: recording would write to a session that is gone.
        if (
            not session_id
            or not traffic.enabled()
            or (exchange.status == 404 and not marks)
            or (scope.get("method") == "DELETE" and exchange.status < 300)
        ):
            return
        entry = traffic.make_entry(
            t=exchange.arrived,
            ms=ms,
            http=scope.get("method", ""),
            path=path,
            status=exchange.status,
            method=method,
            request_id=rpc_id,
            era=era,
            headers=parsed if parsed is not None else decoded(scope.get("headers", ())),
            request=body[:PARSE_LIMIT],
            response=exchange.response,
            response_headers=decoded(exchange.response_headers),
            marks=marks,
            name=target_name(method, tool, body),
            outcome=outcome,
            tool_error=failed_tools > 0,
            trace=carrier.report(info.meta, info.headers, info.trace) if info is not None else None,
        )
        try:
            await traffic.record(get_store(), session_id, entry)
        except Exception as exc:
            logger.warning("traffic not recorded: %s", describe_exception(exc))
