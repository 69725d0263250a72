"""The 2025 era of ``/mcp``: Streamable HTTP with sessions (2025-03-26 to 2025-11-25).

POST carries one JSON-RPC message (a batch only in sessions negotiated at 2025-03-26);
``initialize`` creates the session and answers its id in ``Mcp-Session-Id``; every other
message names that session. GET opens the session's SSE stream (or resumes a cut one with
Last-Event-ID); DELETE ends the session. Protocol work happens in ``mcp.dispatch.sessions``;
failures are raised as ``mcp.errors`` exceptions and answered by the boundary in
``mcp.transport.http``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from mcp import figures, telemetry
from mcp.bus import OUTBOX, Bus, get_bus, parse_event_id
from mcp.calls.context import Context
from mcp.calls.streams import JsonAnswer, RequestStream
from mcp.dispatch import sessions as dispatch
from mcp.dispatch import traced
from mcp.errors import (
    BadRequest,
    HttpError,
    InvalidMessage,
    InvalidRequest,
    NotAcceptable,
    SessionNotFound,
    SessionRequired,
    TooManyRequests,
    message_for,
)
from mcp.faults import inject as faults
from mcp.faults import state as fault_state
from mcp.handlers import methods as handlers
from mcp.policy import seam
from mcp.policy.budget import Budget
from mcp.policy.paths import register
from mcp.sessions import operations as sessions
from mcp.store import Session, SessionStore, StoreUnavailable, get_store
from mcp.store.base import DELETED, GONE, REFUSED, STALE, Claim, DeferredState
from mcp.tools import get_registry
from mcp.transport.events import one_shot, one_shot_encoded, outbox_events, request_events
from mcp.transport.http import admit, classify, parse_accept
from mcp.transport.responses import (
    answer_response,
    empty_response,
    encoded_json_response,
    json_response,
    sse_response,
)
from mcp.wire import headers as header_rules
from mcp.wire import jsonrpc
from mcp.wire.protocol import BATCHES_ONLY_IN, PRIMING_SINCE
from mcp.wire.request import RequestInfo

SINGLE = register("single", "POST /mcp, one JSON-RPC message in a session (2025 eras)")
TASK = register("task", "POST /mcp, a task-augmented request (params.task) in a 2025-11-25 session")
BATCH = register("batch", "POST /mcp, each element of a JSON-RPC batch in a 2025-03-26 session")
STREAM = register("stream", "GET /mcp, a session's SSE stream (or a resumed POST stream)")


def check_protocol_header(request: HttpRequest) -> None:
    """MCP-Protocol-Version, when sent, must be a version this server speaks (400 otherwise)."""
    problem = header_rules.protocol_version_problem(
        request.headers.get(header_rules.PROTOCOL), settings.MCP_PROTOCOL_VERSIONS_SUPPORTED
    )
    if problem:
        raise BadRequest(problem)


def session_header(request: HttpRequest) -> str:
    """The request's Mcp-Session-Id: 400 without it or when it is malformed."""
    session_id = request.headers.get(header_rules.SESSION)
    if not session_id:
        raise SessionRequired()
    problem = header_rules.session_id_problem(session_id)
    if problem:
        raise BadRequest(problem)
    return session_id


def find_session(request: HttpRequest, info: RequestInfo, store: SessionStore) -> Awaitable[Session]:
    """The caller's session: 400 without the header, 404 if unknown, expired or not theirs."""
    return seam.session(session_header(request), info, store, echo_id=True)


def cached_session(
    request: HttpRequest, info: RequestInfo, store: SessionStore, message: Any, accepts_json: bool
) -> tuple[Session, Any] | None:
    """The caller's session as this process last read it, for a call that may run on it and
    commit in one store round trip: a ``tools/call`` of a blind tool (``Tool.blind``), answered
    as JSON, no task, no faults in force. None: look the session up as usual (which also
    decides every 400 and 404)."""
    if not (accepts_json and isinstance(message, jsonrpc.Request) and message.method == "tools/call"):
        return None
    name = message.params.get("name")
    tool = get_registry().get(name) if isinstance(name, str) else None
    if tool is None or not tool.blind or "task" in message.params:
        return None
    found = store.cached(session_header(request))
    return found if found is not None and runs_on_cache(found[0], info) else None


def runs_on_cache(session: Session, info: RequestInfo) -> bool:
    """Whether a blind call runs on ``session`` as it would after a lookup: the caller's, and
    nothing (no fault) that the lookup path would apply first."""
    return sessions.owns(session, info.principal) and faults.quiet(session)


async def post(
    request: HttpRequest,
    info: RequestInfo,
    payload: Any,
    accepts_json: bool,
    accepts_sse: bool,
    *,
    speculate: bool = True,
) -> HttpResponseBase:
    check_protocol_header(request)
    store, bus = get_store(), get_bus()

    if isinstance(payload, list):
        session = await find_session(request, info, store)
        await faults.before(info, session, store, bus)
        return await batch(payload, session, info, store, bus, accepts_json)

    message = classify(payload)
    if isinstance(message, jsonrpc.Request) and message.method == "initialize":
        if request.headers.get("Mcp-Session-Id"):
            raise BadRequest("Bad Request: initialize creates a session; send it without Mcp-Session-Id")
        return await initialize(message, info, store, bus, accepts_json)
    if isinstance(message, jsonrpc.Request):
        # Decided before the session is looked up, as the 403 has always come before a 404.
        seam.step_up(info, message)

    cached = cached_session(request, info, store, message, accepts_json) if speculate else None
    deferred: DeferredState | None = None
    if cached is not None:
        # No round trip yet: the touch and the call's writes go in one step, once it answered.
        session, deferred = cached[0], DeferredState(store, cached[0].id, cached[1])
        ctx = Context(request=info, session=session, store=deferred, bus=bus)  # type: ignore[arg-type]
    else:
        session = await find_session(request, info, store)
        ctx = Context(request=info, session=session, store=store, bus=bus)
        ctx.faults = await faults.before(info, session, store, bus, message)
    if isinstance(message, jsonrpc.Notification):
        figures.child(figures.MESSAGES, "notification").inc()
        await dispatch.notify(ctx, message)
        return empty_response(202)
    if isinstance(message, jsonrpc.Response):
        figures.child(figures.MESSAGES, "response").inc()
        await bus.deliver_reply(session.id, message.id, payload)
        return empty_response(202)

    figures.child(figures.MESSAGES, "request").inc()
    stream = RequestStream(
        bus=bus,
        session_id=session.id,
        accepts_json=accepts_json,
        accepts_sse=accepts_sse,
        priming=session.protocol_version >= PRIMING_SINCE,
    )
    ctx.stream = stream
    seam.clear(ctx, message, TASK if "task" in message.params else SINGLE)
    dispatch.start(ctx, message)
    # Shielded: a client that disconnects must not cancel the request (it may resume).
    answer = await asyncio.shield(stream.decided)
    if deferred is not None:
        committed = await deferred.commit(lambda fresh: runs_on_cache(fresh, info))
        if committed == GONE:
            raise SessionNotFound(headers={"Mcp-Session-Id": session.id})
        if committed == STALE:
            # Changed by another process in a way this call must meet (a fault profile, say):
            # nothing was written, and the call runs again, as usual.
            return await post(request, info, payload, accepts_json, accepts_sse, speculate=False)
    if isinstance(answer, JsonAnswer):
        return answer_response(answer.message)
    events = request_events(bus, session.id, answer.stream, 0, live=True)
    return sse_response(faults.stream(seam.stream(events, info, SINGLE), ctx.faults, info.marks, "post"))


async def initialize(
    message: jsonrpc.Request, info: RequestInfo, store: SessionStore, bus: Bus, accepts_json: bool
) -> HttpResponseBase:
    figures.child(figures.MESSAGES, "request").inc()
    profile = faults.header_profile(info)
    ctx = Context(request=info, session=None, store=store, bus=bus, request_id=message.id)
    traced.received(ctx, message.method, message.params, message.id)
    try:
        result = await handlers.initialize(ctx, message.params)
    except HttpError as exc:
        if ctx.trace is not None:
            traced.answered(ctx, message_for(message.id, exc))
        raise
    except StoreUnavailable:
        traced.answered(ctx, None, failure="unavailable")
        raise
    except Exception as exc:
        refused = message_for(message.id, exc)
        traced.answered(ctx, refused)
        return json_response(refused)
    session = ctx.require_session()
    if ctx.trace is not None:
        ctx.trace.in_session(session.id, session.protocol_version)
    if profile is not None:
        await fault_state.set_profile(store, session, profile)
    headers = {"Mcp-Session-Id": session.id}
    answer = jsonrpc.result(message.id, result)
    traced.answered(ctx, answer)
    if not accepts_json:
        return sse_response(one_shot([answer]), headers)
    return json_response(answer, headers=headers)


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
    messages: list[jsonrpc.Message | jsonrpc.JsonRpcError] = []
    for item in payload:
        try:
            messages.append(jsonrpc.classify(item))
        except jsonrpc.JsonRpcError as exc:
            messages.append(exc)
    await seam.clear_all(info, messages, BATCH, len(messages))
    # Each answer is encoded once, as it comes, within the request's response budget.
    budget = Budget()
    expected = sum(isinstance(message, (jsonrpc.Request, jsonrpc.JsonRpcError)) for message in messages)
    answers: list[bytes] = []
    for item, message in zip(payload, messages, strict=True):
        if isinstance(message, jsonrpc.JsonRpcError):
            response = message_for(message.id, InvalidMessage(message))
        elif isinstance(message, jsonrpc.Request):
            if message.method == "initialize":
                response = message_for(message.id, InvalidRequest("initialize must not be part of a batch"))
                refused = Context(request=info, session=session, store=store, bus=bus)
                traced.received(refused, message.method, message.params, message.id)
                traced.answered(refused, response)
            else:
                ctx = Context(request=info, session=session, store=store, bus=bus, request_id=message.id)
                seam.clear(ctx, message, BATCH)
                response = await dispatch.respond(ctx, message)
        elif isinstance(message, jsonrpc.Notification):
            await dispatch.notify(Context(request=info, session=session, store=store, bus=bus), message)
            continue
        else:
            await bus.deliver_reply(session.id, message.id, item)
            continue
        answers.append(budget.fit(response, reserve=expected - len(answers) - 1))
    if not answers:
        return empty_response(202)
    if not accepts_json:
        return sse_response(one_shot_encoded(answers))
    return encoded_json_response(b"[" + b",".join(answers) + b"]")


async def get(request: HttpRequest) -> HttpResponseBase:
    _, accepts_sse = parse_accept(request.headers.get("Accept"))
    if not accepts_sse:
        raise NotAcceptable("Not Acceptable: the GET stream needs Accept: text/event-stream")
    check_protocol_header(request)
    info = await admit(request)
    store, bus = get_store(), get_bus()
    session = await find_session(request, info, store)
    draw = await faults.before_stream(info, session, store)

    if sessions.open_streams(session.id) >= settings.MCP_MAX_STREAMS_PER_SESSION:
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
            events = request_events(bus, session.id, stream, after, live=False)
            return sse_response(faults.stream(seam.stream(events, info, STREAM), draw, info.marks, "get"))
    else:
        stream, after = OUTBOX, await bus.delivered(session.id, OUTBOX)
        if session.protocol_version >= PRIMING_SINCE and not (await bus.info(session.id, OUTBOX)).queued:
            await bus.publish(session.id, OUTBOX, None)
    token = await bus.claim(session.id, OUTBOX)
    events = outbox_events(store, bus, session.id, after, token)
    return sse_response(faults.stream(seam.stream(events, info, STREAM), draw, info.marks, "get"))


async def delete(request: HttpRequest) -> HttpResponseBase:
    info = await admit(request)
    session_id = session_header(request)
    # Found, checked (owner, era, an expire fault) and ended in one store step.
    claim = Claim(
        principal=info.principal,
        stateless=False,
        modern_version=settings.MODERN_PROTOCOL_VERSION,
        refused_by=faults.EXPIRED,
    )
    store = get_store()
    # Traced: the session's age for mcp.server.session.duration (a read only telemetry pays).
    ending = await store.get(session_id, touch=False) if telemetry.ON else None
    outcome = await sessions.end_if(session_id, claim, store, get_bus())
    if outcome == REFUSED:
        info.marks.append("expire")
    if outcome != DELETED:
        raise SessionNotFound(headers={"Mcp-Session-Id": session_id})
    figures.SESSIONS_DELETED.inc()
    if ending is not None:
        telemetry.session_ended(ending.age(), ending.protocol_version)
    return empty_response(204)
