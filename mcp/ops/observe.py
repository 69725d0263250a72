"""What the ASGI application notes about every HTTP exchange, whichever server runs it.

``Observer`` wraps the application's ``receive`` and ``send`` and, when a response is
complete (a stream included):

- writes the access log line (``mcp.ops.logs``) with a request id, also sent back as
  ``X-Request-Id``;
- for the MCP endpoints, counts the exchange into the shared statistics (``mcp.ops.stats``:
  JSON-RPC method, tool, duration, status) and records it in the session's traffic
  (``mcp.traffic``: one store operation, none with MCP_TRAFFIC_LOG=0);
- keeps the count of SSE responses open in this process (the heartbeat reports it).

It reads only what passes by: at most MCP_TRAFFIC_EXCERPT_BYTES of each body is kept, and a
request body is parsed (for its method, id and tool) only when it is small JSON.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from django.conf import settings

from mcp import traffic
from mcp.ops import logs, stats
from mcp.redact import describe_exception
from mcp.store import get_store

logger = logging.getLogger("mcp.ops")

PARSE_LIMIT = 256 * 1024
LEGACY_PATHS = ("/sse", "/messages")


def rpc_facts(body: bytes) -> tuple[str | None, Any, str | None]:
    """(JSON-RPC method, id, tool name) of a small JSON body; Nones when it is not one."""
    if not body or len(body) > PARSE_LIMIT:
        return None, None, None
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None, None
    if isinstance(message, list):
        return "batch", None, None
    if not isinstance(message, dict):
        return None, None, None
    method = message.get("method")
    method = method[:100] if isinstance(method, str) else None
    tool = None
    if method == "tools/call" and isinstance(message.get("params"), dict):
        name = message["params"].get("name")
        tool = name[:100] if isinstance(name, str) else None
    return method, message.get("id"), tool


class Exchange:
    """One HTTP exchange as seen on the wire (bounded)."""

    __slots__ = (
        "arrived",
        "body",
        "headers",
        "mcp",
        "response",
        "response_headers",
        "size",
        "started",
        "status",
        "streaming",
    )

    def __init__(self, scope: dict[str, Any], mcp: bool) -> None:
        self.arrived = time.time()
        self.started = time.perf_counter()
        self.mcp = mcp
        self.headers: list[tuple[str, str]] = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope.get("headers", ())
        ]
        self.body = bytearray()
        self.response = bytearray()
        self.response_headers: list[tuple[str, str]] = []
        self.status = 0
        self.size = 0
        self.streaming = False

    def header(self, name: str, headers: list[tuple[str, str]] | None = None) -> str | None:
        for key, value in self.headers if headers is None else headers:
            if key.lower() == name:
                return value
        return None


class Observer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.mcp_paths = frozenset(settings.MCP_PATHS)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = Exchange(scope, scope["path"] in self.mcp_paths)
        request_id = logs.new_request_id()
        scope["mcp.request_id"] = request_id
        keep = settings.MCP_TRAFFIC_EXCERPT_BYTES if exchange.mcp else 0

        async def observed_receive() -> dict[str, Any]:
            message = await receive()
            if exchange.mcp and message["type"] == "http.request" and len(exchange.body) < PARSE_LIMIT:
                exchange.body += message.get("body", b"")[: PARSE_LIMIT - len(exchange.body)]
            return message

        async def observed_send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                exchange.status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
                exchange.response_headers = [
                    (name.decode("latin-1"), value.decode("latin-1")) for name, value in headers
                ]
                content_type = exchange.header("content-type", exchange.response_headers) or ""
                if content_type.startswith("text/event-stream"):
                    exchange.streaming = True
                    stats.local["open_streams"] += 1
            elif kind == "http.response.body":
                chunk = message.get("body", b"")
                exchange.size += len(chunk)
                if keep and len(exchange.response) < keep:
                    exchange.response += chunk[: keep - len(exchange.response)]
            await send(message)

        try:
            await self.app(scope, receive if not exchange.mcp else observed_receive, observed_send)
        finally:
            if exchange.streaming:
                stats.local["open_streams"] -= 1
            try:
                await self.finish(scope, exchange, request_id)
            except Exception as exc:
                logger.warning("request %s not accounted: %s", request_id, describe_exception(exc))

    async def finish(self, scope: dict[str, Any], exchange: Exchange, request_id: str) -> None:
        ms = (time.perf_counter() - exchange.started) * 1000
        session_id = exchange.header("mcp-session-id") or exchange.header(
            "mcp-session-id", exchange.response_headers
        )
        if not session_id and scope["path"] == "/messages":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            session_id = (query.get("sessionId") or [None])[0]
        if settings.MCP_ACCESS_LOG:
            logs.log_access(
                request_id=request_id,
                method=scope.get("method", ""),
                path=scope["path"],
                status=exchange.status,
                size=exchange.size,
                ms=ms,
                client=(scope.get("client") or ("", 0))[0],
                session=session_id,
            )
        if not exchange.mcp:
            return
        method, rpc_id, tool = rpc_facts(bytes(exchange.body))
        stats.get_stats().observe(method=method, tool=tool, ms=ms, status=exchange.status)
        info = scope.get("mcp.info")
        marks = getattr(info, "marks", None) or ()
        # A 404 names no live session, unless a fault expired it (its record stays, marked).
        if not session_id or not traffic.enabled() or (exchange.status == 404 and not marks):
            return
        path = scope["path"]
        entry = traffic.make_entry(
            t=exchange.arrived,
            ms=ms,
            http=scope.get("method", ""),
            path=path,
            status=exchange.status,
            method=method,
            request_id=rpc_id,
            era="legacy" if path in LEGACY_PATHS else scope.get("mcp.era", "2025"),
            headers=dict(exchange.headers),
            request=bytes(exchange.body),
            response=bytes(exchange.response),
            response_headers=exchange.response_headers,
            marks=marks,
        )
        try:
            await traffic.record(get_store(), session_id, entry)
        except Exception as exc:
            logger.warning("traffic not recorded: %s", describe_exception(exc))
