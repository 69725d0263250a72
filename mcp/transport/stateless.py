"""The 2026-07-28 era of ``/mcp``: stateless requests (no session, ``_meta`` on every request).

HTTP rules of this era, in the order they are checked (each refusal echoes the request's id):

1. one JSON-RPC message per POST (no batches); notifications are accepted (202);
2. ``MCP-Protocol-Version`` header present (-32020), ``_meta`` with the protocol version and
   client capabilities (-32602), header equal to ``_meta``'s version (-32020), a version this
   server speaks (-32022 with ``data.supported``/``data.requested``), all HTTP 400;
3. ``Mcp-Method`` equal to the body's method (-32020), then the method must exist in this era
   (HTTP 404, -32601), then ``Mcp-Name`` and a tool's ``Mcp-Param-*`` headers (-32020);
4. ``subscriptions/listen`` answers a long-lived SSE stream (``mcp.sessions.listen``); any other request
   runs in a task of its own, answered in JSON or, once it sends a message before its result,
   SSE. Closing the response cancels the request. No session is ever looked up or minted.

GET and DELETE carrying a 2026-07-28 header get 405: there is no session to stream or end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from mcp import figures, telemetry
from mcp.bus import get_bus
from mcp.calls import inputs
from mcp.calls.context import Context
from mcp.calls.streams import JsonAnswer
from mcp.dispatch import stateless, traced
from mcp.errors import BadRequest, HeaderMismatch, HttpError, McpError, MethodNotAllowed, message_for
from mcp.faults import inject as faults
from mcp.handlers.methods import server_capabilities
from mcp.policy import seam
from mcp.policy.paths import register
from mcp.sessions import listen
from mcp.store import get_store
from mcp.tools import get_registry
from mcp.transport.http import classify
from mcp.transport.live import LiveStream
from mcp.transport.responses import answer_response, empty_response, sse_response
from mcp.wire import jsonrpc, sse
from mcp.wire import meta as modern
from mcp.wire import routing_headers as request_headers
from mcp.wire.protocol import MODERN_META_KEYS, MODERN_VERSIONS, PROTOCOL_HEADER
from mcp.wire.request import RequestInfo

STATELESS = register("stateless", "POST /mcp, a 2026-07-28 request (no session; _meta on every request)")
LISTEN = register("listen", "POST /mcp, a 2026-07-28 subscriptions/listen stream")


async def post(
    request: HttpRequest, info: RequestInfo, payload: Any, accepts_json: bool, accepts_sse: bool
) -> HttpResponseBase:
    if not isinstance(payload, dict):
        raise BadRequest("Bad Request: 2026-07-28 requests are single JSON-RPC messages (no batches)")
    message = classify(payload)
    if isinstance(message, jsonrpc.Response):
        raise BadRequest("Bad Request: a 2026-07-28 server sends no requests, so it takes no responses")
    ctx = Context(request=info, session=None, store=get_store(), bus=get_bus())
    # Only a span records the declared version.
    version = declared_version(message.params) if telemetry.ON else None
    if isinstance(message, jsonrpc.Notification):
        figures.child(figures.MESSAGES, "notification").inc()
        traced.received(ctx, message.method, message.params, protocol_version=version)
        traced.answered(ctx, None)
        return empty_response(202)
    figures.child(figures.MESSAGES, "request").inc()
    ctx.request_id = message.id
    round_parent = inputs.peek_trace(message.params.get("requestState")) if telemetry.ON else None
    traced.received(
        ctx, message.method, message.params, message.id, protocol_version=version, round_parent=round_parent
    )
    try:
        seam.step_up(info, message)
        ctx.modern = admit(request, message)
        meta = message.params.get("_meta")
        ctx.meta = meta if isinstance(meta, dict) else {}
        if message.method == stateless.LISTEN:
            # Its span ends as the stream opens: the stream itself is not an operation's latency.
            listening = listen_response(message, info)
            traced.answered(ctx, None)
            return listening
        await stateless.prepare(ctx, message)
        ctx.faults = await faults.before_stateless(info, message)
        seam.clear(ctx, message, STATELESS)
    except McpError as exc:
        exc.request_id = message.id
        if ctx.trace is not None:
            traced.answered(ctx, message_for(message.id, exc))
        raise
    except BaseException:
        traced.answered(ctx, None, failure="_OTHER")
        raise
    return await run(ctx, message, accepts_json, accepts_sse)


def declared_version(params: dict[str, Any]) -> str | None:
    """The 2026-07-28 version a message's ``_meta`` declares, when it is one this era knows."""
    meta = params.get("_meta")
    version = meta.get(MODERN_META_KEYS[0]) if isinstance(meta, dict) else None
    return version if version in MODERN_VERSIONS else None


def admit(request: HttpRequest, message: jsonrpc.Request) -> modern.RequestMeta:
    """The request's ``_meta``, once every rule of this era's headers and envelope holds."""
    header = request.headers.get(PROTOCOL_HEADER)
    if header is None:
        raise HeaderMismatch("Header mismatch: the MCP-Protocol-Version header is required")
    meta = modern.read_meta(message.params)
    if header.strip() != meta.protocol_version:
        raise HeaderMismatch("Header mismatch: MCP-Protocol-Version differs from _meta's protocol version")
    modern.check_version(meta)
    headers = request.headers.get
    request_headers.check_method(headers, message.method)
    stateless.check_method(message.method)
    request_headers.check_name(headers, message.method, message.params)
    name = message.params.get("name")
    if message.method == "tools/call" and isinstance(name, str):
        tool = get_registry().get(name)
        if tool is not None:
            request_headers.check_params(headers, tool.input_schema, message.params.get("arguments"))
    return meta


async def run(
    ctx: Context, message: jsonrpc.Request, accepts_json: bool, accepts_sse: bool
) -> HttpResponseBase:
    stream = LiveStream(accepts_json=accepts_json, accepts_sse=accepts_sse)
    ctx.stream = stream
    task = asyncio.create_task(answer(ctx, message, stream))
    try:
        decided = await stream.decided
    except BaseException:
        if not task.done():
            task.cancel()
        raise
    if isinstance(decided, JsonAnswer):
        return answer_response(decided.message)
    events = seam.stream(stream.events(task), ctx.request, STATELESS)
    return sse_response(faults.stream(events, ctx.faults, ctx.request.marks, "post"))


async def answer(ctx: Context, message: jsonrpc.Request, stream: LiveStream) -> None:
    try:
        response = await stateless.answer(ctx, message)
    except asyncio.CancelledError:
        traced.answered(ctx, None, failure="cancelled")
        await stream.finish(None)
        raise
    except HttpError as exc:
        exc.request_id = message.id
        refused = message_for(message.id, exc)
        traced.answered(ctx, refused)
        if not stream.refuse(exc):
            await stream.finish(refused)
        return
    except BaseException:
        traced.answered(ctx, None, failure="_OTHER")
        raise
    if ctx.trace is not None:
        traced.answered(ctx, response)
    await stream.finish(response)


def listen_response(message: jsonrpc.Request, info: RequestInfo) -> HttpResponseBase:
    capabilities = modern.modern_capabilities(server_capabilities(), {})
    agreed = listen.honoured(message.params.get("notifications"), capabilities)
    slot = seam.listen_slot(info)
    return sse_response(seam.stream(listen_events(message.id, agreed, slot), info, LISTEN))


async def listen_events(
    subscription_id: jsonrpc.RequestId, agreed: dict[str, Any], slot: str
) -> AsyncIterator[bytes]:
    figures.child(figures.OPEN_STREAMS, "listen").inc()
    try:
        keepalive = settings.MCP_KEEPALIVE_INTERVAL
        async for item in listen.messages(subscription_id, agreed, keepalive=keepalive):
            yield sse.comment() if item is None else sse.event(jsonrpc.encode(item))
    finally:
        seam.release_listen(slot)
        figures.child(figures.OPEN_STREAMS, "listen").dec()


async def other(request: HttpRequest) -> HttpResponseBase:
    """GET and DELETE have no meaning without sessions."""
    raise MethodNotAllowed(
        "Method Not Allowed: 2026-07-28 has no session stream to GET or DELETE; use "
        "subscriptions/listen for notifications",
        headers={"Allow": "POST"},
    )
