"""The 2024-11-05 HTTP+SSE transport, for old clients, on the same sessions and tools.

``GET /sse`` opens a session and its stream; the first event is ``endpoint``, whose data is
the URL to POST to (``/messages?sessionId=<id>``). Each POSTed message gets 202 at once and
its answer arrives on the stream, like every other server message. Closing the stream ends
the session. Sessions are created at 2024-11-05 and take the version, client info and
capabilities of the ``initialize`` that follows.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from mcp import telemetry
from mcp.bus import OUTBOX, Bus, get_bus
from mcp.calls.context import Context
from mcp.calls.streams import OutboxStream
from mcp.dispatch import sessions as dispatch
from mcp.dispatch import traced
from mcp.errors import BadRequest, MethodNotAllowed, NotAcceptable, UnsupportedMediaType, message_for
from mcp.handlers import methods as handlers
from mcp.policy import seam
from mcp.policy.paths import register
from mcp.sessions import operations as sessions
from mcp.store import SessionStore, get_store
from mcp.transport.events import outbox_events
from mcp.transport.http import admit, classify, guarded, is_json_content_type, parse_accept, read_body
from mcp.transport.responses import empty_response, sse_response
from mcp.wire import jsonrpc, sse
from mcp.wire.protocol import valid_session_id

LEGACY_VERSION = "2024-11-05"
LEGACY = register("legacy", "POST /messages?sessionId=..., one message of the 2024-11-05 HTTP+SSE transport")
LEGACY_STREAM = register("legacy-stream", "GET /sse, the 2024-11-05 transport's session stream")


@csrf_exempt
@guarded
async def sse_endpoint(request: HttpRequest) -> HttpResponseBase:
    if request.method != "GET":
        raise MethodNotAllowed(headers={"Allow": "GET"})
    if not parse_accept(request.headers.get("Accept"))[1]:
        raise NotAcceptable("Not Acceptable: GET /sse needs Accept: text/event-stream")
    info = await admit(request)
    store, bus = get_store(), get_bus()
    ctx = Context(request=info, session=None, store=store, bus=bus)
    await handlers.initialize(ctx, {"protocolVersion": LEGACY_VERSION})
    session = ctx.require_session()
    token = await bus.claim(session.id, OUTBOX)
    events = legacy_events(store, bus, session.id, token, session.created)
    return sse_response(seam.stream(events, info, LEGACY_STREAM))


async def legacy_events(
    store: SessionStore, bus: Bus, session_id: str, token: int, created: float
) -> AsyncIterator[bytes]:
    try:
        yield sse.event(f"/messages?sessionId={session_id}".encode(), name="endpoint")
        async for chunk in outbox_events(store, bus, session_id, 0, token):
            yield chunk
    finally:
        if telemetry.ON:
            telemetry.session_ended(time.time() - created, LEGACY_VERSION)
        # The stream is the session: end it, in a task of its own (we may be cancelled).
        asyncio.get_running_loop().create_task(
            sessions.end(session_id, store, bus), context=contextvars.Context()
        )


@csrf_exempt
@guarded
async def messages_endpoint(request: HttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        raise MethodNotAllowed(headers={"Allow": "POST"})
    if not is_json_content_type(request.headers.get("Content-Type")):
        raise UnsupportedMediaType()
    info = await admit(request)
    session_id = request.GET.get("sessionId", "")
    if not session_id or not valid_session_id(session_id):
        raise BadRequest("Bad Request: the sessionId query parameter is required")
    store, bus = get_store(), get_bus()
    session = await seam.session(session_id, info, store, echo_id=False)
    payload = await read_body(request)
    if isinstance(payload, list):
        raise BadRequest("Bad Request: batches are not supported on the HTTP+SSE transport")
    message = classify(payload)
    stream = OutboxStream(bus=bus, session_id=session.id)
    ctx = Context(request=info, session=session, store=store, bus=bus, stream=stream)
    if isinstance(message, jsonrpc.Notification):
        await dispatch.notify(ctx, message)
    elif isinstance(message, jsonrpc.Response):
        await bus.deliver_reply(session.id, message.id, payload)
    elif message.method == "initialize":
        traced.received(ctx, message.method, message.params, message.id)
        try:
            response = jsonrpc.result(message.id, await handlers.reinitialize(ctx, message.params))
        except Exception as exc:
            response = message_for(message.id, exc)
        traced.answered(ctx, response)
        await stream.finish(response)
    else:
        seam.clear(ctx, message, LEGACY)
        dispatch.start(ctx, message)
    return empty_response(202)
