"""The Streamable HTTP endpoint ``/mcp``: HTTP rules only.

POST carries one JSON-RPC message (a batch only in sessions negotiated at 2025-03-26);
GET opens the session's SSE stream (or resumes a cut one with Last-Event-ID); DELETE ends
the session. Everything protocol-level happens in ``mcp.dispatch``; failures are raised as
``mcp.errors`` exceptions and turned into responses in one place, ``endpoint``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from mcp import auth, dispatch, handlers, jsonrpc, limits, metrics, running, sse
from mcp.bus import OUTBOX, Bus, StreamClosed, get_bus, parse_event_id
from mcp.context import Context, RequestInfo
from mcp.errors import (
    BadRequest,
    HttpError,
    McpError,
    MethodNotAllowed,
    NotAcceptable,
    ParseError,
    PayloadTooLarge,
    ServiceUnavailable,
    SessionNotFound,
    SessionRequired,
    TooManyRequests,
    UnsupportedMediaType,
)
from mcp.protocol import BATCHES_ONLY_IN, PRIMING_SINCE, valid_session_id
from mcp.redact import describe_exception
from mcp.responses import JSON, empty_response, error_response, json_response, sse_response
from mcp.security import request_info
from mcp.store import Session, SessionStore, StoreUnavailable, get_store
from mcp.streams import JsonAnswer, RequestStream

logger = logging.getLogger("mcp.transport")

ALLOW = "GET, POST, DELETE, OPTIONS"


# --- Pure header helpers -------------------------------------------------------------------


def parse_accept(header: str | None) -> tuple[bool, bool]:
    """(accepts JSON, accepts SSE); wildcards count, ``q=0`` refuses, no header accepts all."""
    if not header or not header.strip():
        return True, True
    json_ok = sse_ok = False
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        media = media.lower()
        if any(p.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        if media in ("*/*", JSON, "application/*"):
            json_ok = True
        if media in ("*/*", sse.CONTENT_TYPE, "text/*"):
            sse_ok = True
    return json_ok, sse_ok


def is_json_content_type(header: str | None) -> bool:
    return bool(header) and header.split(";")[0].strip().lower() == JSON


# --- The endpoint ----------------------------------------------------------------------------


def guarded(view: Callable[..., Awaitable[HttpResponseBase]]) -> Callable[..., Awaitable[HttpResponseBase]]:
    """The one boundary: every exception a view raises becomes a protocol-correct answer."""

    @functools.wraps(view)
    async def boundary(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return await view(request, *args, **kwargs)
        except McpError as exc:
            metrics.HTTP_ERRORS.labels(status=str(exc.status)).inc()
            return error_response(exc)
        except InvalidMessage as exc:
            metrics.HTTP_ERRORS.labels(status="400").inc()
            return json_response(jsonrpc.error(exc.error.id, exc.error.code, exc.error.message), status=400)
        except StoreUnavailable as exc:
            logger.error("session store unavailable: %s", describe_exception(exc))
            return error_response(ServiceUnavailable("Service Unavailable: the session store is unreachable"))
        except Exception as exc:
            error_id = secrets.token_hex(4)
            logger.error("internal error %s: %s", error_id, describe_exception(exc))
            metrics.HTTP_ERRORS.labels(status="500").inc()
            return json_response(
                jsonrpc.error(None, jsonrpc.INTERNAL_ERROR, "Internal error", {"errorId": error_id}),
                status=500,
            )

    return boundary


@csrf_exempt
@guarded
async def endpoint(request: HttpRequest) -> HttpResponseBase:
    if request.method == "POST":
        return await post(request)
    if request.method == "GET":
        return await get(request)
    if request.method == "DELETE":
        return await delete(request)
    if request.method == "OPTIONS":
        return empty_response(204, {"Allow": ALLOW})
    raise MethodNotAllowed(headers={"Allow": ALLOW})


async def admit(request: HttpRequest) -> RequestInfo:
    """Who is asking (token verified in MCP_AUTH=jwt mode), within their rate limit."""
    info = request_info(request)
    await auth.authenticate(info)
    await limits.check_rate(info.principal or info.client_addr)
    return info


def check_protocol_header(request: HttpRequest) -> None:
    version = request.headers.get("MCP-Protocol-Version")
    if version is not None and version not in settings.MCP_PROTOCOL_VERSIONS_SUPPORTED:
        raise BadRequest(
            f"Bad Request: unsupported MCP-Protocol-Version {version[:40]!r}; supported: "
            + ", ".join(settings.MCP_PROTOCOL_VERSIONS_SUPPORTED)
        )


async def find_session(request: HttpRequest, info: RequestInfo, store: SessionStore) -> Session:
    """The caller's session: 400 without the header, 404 if unknown, expired or not theirs."""
    session_id = request.headers.get("Mcp-Session-Id")
    if not session_id:
        raise SessionRequired()
    if not valid_session_id(session_id):
        raise BadRequest("Bad Request: Mcp-Session-Id must be 1-128 visible ASCII characters")
    return await owned_session(session_id, info, store, echo_id=True)


async def owned_session(session_id: str, info: RequestInfo, store: SessionStore, *, echo_id: bool) -> Session:
    """The live session if it belongs to the caller; 404 otherwise (``echo_id``: name it)."""
    session = await store.get(session_id)
    # A session bound to another principal looks exactly like an unknown one.
    if session is None or session.principal != info.principal:
        raise SessionNotFound(headers={"Mcp-Session-Id": session_id} if echo_id else None)
    return session


def start_request(ctx: Context, message: jsonrpc.Request) -> None:
    """Run ``message`` in a task of its own (its answer goes to ``ctx.stream``), cancellable by id."""
    assert ctx.session is not None
    meta = message.params.get("_meta")
    ctx.request_id, ctx.meta = message.id, meta if isinstance(meta, dict) else {}
    task = asyncio.create_task(dispatch.run(ctx, message))
    running.track(ctx.session.id, message.id, task)


async def read_body(request: HttpRequest) -> Any:
    if getattr(request, "scope", {}).get("mcp.body_too_large"):
        raise PayloadTooLarge(f"Payload Too Large: the body exceeds {settings.MCP_MAX_BODY_BYTES} bytes")
    try:
        body = request.body
    except RequestDataTooBig:
        raise PayloadTooLarge(
            f"Payload Too Large: the body exceeds {settings.MCP_MAX_BODY_BYTES} bytes"
        ) from None
    except (ValueError, OSError):
        raise BadRequest("Bad Request: the body could not be read (is Content-Length a number?)") from None
    try:
        return jsonrpc.decode(
            body, max_depth=settings.MCP_MAX_JSON_DEPTH, max_string=settings.MCP_MAX_STRING_BYTES
        )
    except jsonrpc.JsonRpcError as exc:
        raise ParseError(exc.message) from None
    except jsonrpc.TooLarge as exc:
        raise PayloadTooLarge(f"Payload Too Large: {exc} (MCP_MAX_STRING_BYTES)") from None


class InvalidMessage(Exception):
    """The body is JSON but not a JSON-RPC message; answered 400, with the id when readable."""

    def __init__(self, error: jsonrpc.JsonRpcError) -> None:
        super().__init__(error.message)
        self.error = error


def classify(payload: Any) -> jsonrpc.Message:
    try:
        return jsonrpc.classify(payload)
    except jsonrpc.JsonRpcError as exc:
        raise InvalidMessage(exc) from None


async def post(request: HttpRequest) -> HttpResponseBase:
    if not is_json_content_type(request.headers.get("Content-Type")):
        raise UnsupportedMediaType()
    accepts_json, accepts_sse = parse_accept(request.headers.get("Accept"))
    if not (accepts_json or accepts_sse):
        raise NotAcceptable()
    check_protocol_header(request)
    info = await admit(request)
    payload = await read_body(request)
    store, bus = get_store(), get_bus()

    if isinstance(payload, list):
        session = await find_session(request, info, store)
        return await batch(payload, session, info, store, bus, accepts_json)

    message = classify(payload)
    if isinstance(message, jsonrpc.Request) and message.method == "initialize":
        if request.headers.get("Mcp-Session-Id"):
            raise BadRequest("Bad Request: initialize creates a session; send it without Mcp-Session-Id")
        return await initialize(message, info, store, bus, accepts_json)

    session = await find_session(request, info, store)
    ctx = Context(request=info, session=session, store=store, bus=bus)
    if isinstance(message, jsonrpc.Notification):
        metrics.MESSAGES.labels(kind="notification").inc()
        await dispatch.notify(ctx, message)
        return empty_response(202)
    if isinstance(message, jsonrpc.Response):
        metrics.MESSAGES.labels(kind="response").inc()
        await bus.deliver_reply(session.id, message.id, payload)
        return empty_response(202)

    metrics.MESSAGES.labels(kind="request").inc()
    stream = RequestStream(
        bus=bus,
        session_id=session.id,
        accepts_json=accepts_json,
        accepts_sse=accepts_sse,
        priming=session.protocol_version >= PRIMING_SINCE,
    )
    ctx.stream = stream
    start_request(ctx, message)
    # Shielded: a client that disconnects must not cancel the request (it may resume).
    answer = await asyncio.shield(stream.decided)
    if isinstance(answer, JsonAnswer):
        return json_response(answer.message)
    return sse_response(stream_events(bus, session.id, answer.stream, 0, live=True))


async def initialize(
    message: jsonrpc.Request, info: RequestInfo, store: SessionStore, bus: Bus, accepts_json: bool
) -> HttpResponseBase:
    metrics.MESSAGES.labels(kind="request").inc()
    ctx = Context(request=info, session=None, store=store, bus=bus, request_id=message.id)
    try:
        result = await handlers.initialize(ctx, message.params)
    except HttpError:
        raise
    except Exception as exc:
        return json_response(dispatch.error_response(message.id, exc))
    assert ctx.session is not None
    metrics.SESSIONS_CREATED.inc()
    headers = {"Mcp-Session-Id": ctx.session.id}
    if not accepts_json:
        return sse_response(_one_shot([jsonrpc.result(message.id, result)]), headers)
    return json_response(jsonrpc.result(message.id, result), headers=headers)


async def batch(
    payload: list[Any], session: Session, info: RequestInfo, store: SessionStore, bus: Bus, accepts_json: bool
) -> HttpResponseBase:
    """JSON-RPC batches, which only the 2025-03-26 revision allows; answered as one JSON array."""
    if session.protocol_version != BATCHES_ONLY_IN:
        raise BadRequest(
            f"Bad Request: batches are only accepted in sessions negotiated at {BATCHES_ONLY_IN}"
        )
    if not payload:
        raise BadRequest("Bad Request: an empty batch")
    if len(payload) > settings.MCP_MAX_BATCH:
        raise BadRequest(f"Bad Request: a batch holds at most {settings.MCP_MAX_BATCH} messages")
    responses: list[dict[str, Any]] = []
    for item in payload:
        try:
            message = jsonrpc.classify(item)
        except jsonrpc.JsonRpcError as exc:
            responses.append(jsonrpc.error(exc.id, exc.code, exc.message))
            continue
        ctx = Context(request=info, session=session, store=store, bus=bus)
        if isinstance(message, jsonrpc.Request):
            if message.method == "initialize":
                responses.append(
                    jsonrpc.error(
                        message.id, jsonrpc.INVALID_REQUEST, "initialize must not be part of a batch"
                    )
                )
                continue
            ctx.request_id = message.id
            responses.append(await dispatch.respond(ctx, message))
        elif isinstance(message, jsonrpc.Notification):
            await dispatch.notify(ctx, message)
        else:
            await bus.deliver_reply(session.id, message.id, item)
    if not responses:
        return empty_response(202)
    if not accepts_json:
        return sse_response(_one_shot(responses))
    return json_response(responses)


async def _one_shot(messages: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    for message in messages:
        yield sse.event(jsonrpc.encode(message))


async def get(request: HttpRequest) -> HttpResponseBase:
    _, accepts_sse = parse_accept(request.headers.get("Accept"))
    if not accepts_sse:
        raise NotAcceptable("Not Acceptable: the GET stream needs Accept: text/event-stream")
    check_protocol_header(request)
    info = await admit(request)
    store, bus = get_store(), get_bus()
    session = await find_session(request, info, store)

    if open_streams(session.id) >= settings.MCP_MAX_STREAMS_PER_SESSION:
        raise TooManyRequests(
            f"Too Many Requests: this session already has {settings.MCP_MAX_STREAMS_PER_SESSION} "
            "open streams (MCP_MAX_STREAMS_PER_SESSION)",
            headers={"Retry-After": "1"},
        )
    resume = parse_event_id(request.headers.get("Last-Event-ID") or "")
    if resume is not None and await bus.exists(session.id, resume[0]):
        stream, after = resume
        if stream != OUTBOX:
            # Resuming a POST stream: the rest of it, up to and including its response.
            return sse_response(stream_events(bus, session.id, stream, after, live=False))
    else:
        stream, after = OUTBOX, await bus.delivered(session.id, OUTBOX)
        if session.protocol_version >= PRIMING_SINCE and not (await bus.info(session.id, OUTBOX)).queued:
            await bus.publish(session.id, OUTBOX, None)
    token = await bus.claim(session.id, OUTBOX)
    return sse_response(outbox_events(store, bus, session.id, after, token))


async def delete(request: HttpRequest) -> HttpResponseBase:
    info = await admit(request)
    store, bus = get_store(), get_bus()
    session = await find_session(request, info, store)
    await end_session(session.id, store, bus)
    metrics.SESSIONS_DELETED.inc()
    return empty_response(204)


async def end_session(session_id: str, store: SessionStore, bus: Bus) -> None:
    """Forget a session everywhere: its record, its streams (readers end), its running requests."""
    await store.delete(session_id)
    await bus.drop_session(session_id)
    running.cancel_session(session_id)


# --- SSE event sources ----------------------------------------------------------------------

# session id -> GET streams (outbox or resumed) open in this process.
_open_streams: dict[str, int] = {}


def open_streams(session_id: str) -> int:
    return _open_streams.get(session_id, 0)


@contextlib.contextmanager
def counted_stream(session_id: str, kind: str) -> Iterator[None]:
    _open_streams[session_id] = _open_streams.get(session_id, 0) + 1
    metrics.OPEN_STREAMS.labels(kind=kind).inc()
    try:
        yield
    finally:
        metrics.OPEN_STREAMS.labels(kind=kind).dec()
        remaining = _open_streams.get(session_id, 1) - 1
        if remaining > 0:
            _open_streams[session_id] = remaining
        else:
            _open_streams.pop(session_id, None)


async def stream_events(
    bus: Bus, session_id: str, stream: str, after: int, *, live: bool
) -> AsyncIterator[bytes]:
    """A request stream from ``after`` to its response; ``live`` honours hang-ups (dropStream)."""
    retry_ms = settings.MCP_SSE_RETRY_MS
    keepalive = settings.MCP_KEEPALIVE_INTERVAL
    cursor = after
    with counted_stream(session_id, "post" if live else "resume"):
        while True:
            try:
                events = await bus.read(session_id, stream, cursor, keepalive)
            except StreamClosed:
                return
            if not events:
                yield sse.comment()
                continue
            for event in events:
                cursor = event.seq
                if event.hangup:
                    if live:
                        yield sse.retry(retry_ms)
                        return
                elif event.message is not None:
                    yield sse.event(jsonrpc.encode(event.message), id=event.id)
                elif not event.final:
                    yield sse.priming(event.id, retry_ms)
                if event.final:
                    return


async def outbox_events(
    store: SessionStore, bus: Bus, session_id: str, after: int, token: int
) -> AsyncIterator[bytes]:
    """The session's GET stream: what is queued, then each new message, with keep-alives.

    Ends when the session ends or a newer GET stream of the same session takes over.
    """
    retry_ms = settings.MCP_SSE_RETRY_MS
    keepalive = settings.MCP_KEEPALIVE_INTERVAL
    cursor = after
    with counted_stream(session_id, "get"):
        while True:
            if await bus.owner(session_id, OUTBOX) != token:
                return
            try:
                events = await bus.read(session_id, OUTBOX, cursor, keepalive)
            except StreamClosed:
                return
            if not events:
                # An open stream is activity; a session that ended meanwhile closes it.
                if await store.get(session_id) is None:
                    return
                yield sse.comment()
                continue
            for event in events:
                cursor = event.seq
                if event.message is not None:
                    yield sse.event(jsonrpc.encode(event.message), id=event.id)
                elif not event.final and not event.hangup:
                    yield sse.priming(event.id, retry_ms)
                await bus.mark_delivered(session_id, OUTBOX, event.seq)
