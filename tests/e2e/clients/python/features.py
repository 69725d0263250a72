"""The official MCP Python SDK against the server's diagnostic tools; print one JSON line.

Usage: python features.py SCENARIO URL, in the SDK's own virtualenv (tests/e2e/deps.py).

- sampling, elicitation, progress, resume, notifications: URL is the /mcp endpoint
  (Streamable HTTP, ``streamable_http_client``);
- legacy: URL is the /sse endpoint (the 2024-11-05 HTTP+SSE transport, ``sse_client``).

Every HTTP exchange goes through a recording httpx transport: the JSON-RPC messages the
client sent and received, as raw JSON off the wire, are reported under "wire" (with each
request's method, Last-Event-ID and answer) so that the test can validate them against the
schema. What the SDK handed to this script (callbacks, results) is under "events".
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import sys
import time
import traceback
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.context import RequestContext

from mcp import ClientSession, types

TIMEOUT = 60.0
# Each step (connect, one call, one wait) is bounded; E2E_STEP_SECONDS shortens it.
STEP = float(os.environ.get("E2E_STEP_SECONDS") or 15)
CLIENT_INFO = types.Implementation(name="e2e-python-features", version="1.0.0")
# What this client answers to sampling/createMessage and elicitation/create.
SAMPLING_ANSWER = "The fixed answer of the Python e2e client"
SAMPLING_MODEL = "e2e-fixed-model"
ELICITATION_CONTENT = {"name": "Python E2E", "confirm": True}

STARTED = time.monotonic()


def now() -> float:
    return round((time.monotonic() - STARTED) * 1000, 1)


# What the SDK handed to this script, in order.
EVENTS: list[dict[str, Any]] = []


def note(kind: str, **values: Any) -> None:
    EVENTS.append({"kind": kind, "at": now(), **values})


# --- The wire, recorded ---------------------------------------------------------------------


class Wire:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.exchanges: list[dict[str, Any]] = []
        self.named_events: list[dict[str, Any]] = []

    @staticmethod
    def record(text: str, into: list[dict[str, Any]], via: str) -> None:
        if not text.strip():
            return
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            into.append({"via": via, "at": now(), "unparsed": text, "error": str(exc)})
            return
        for message in parsed if isinstance(parsed, list) else [parsed]:
            into.append({"via": via, "at": now(), "message": message})

    def report(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "received": self.received,
            "exchanges": self.exchanges,
            "namedEvents": self.named_events,
        }


class SseSink:
    """Reads the copy of an SSE body: each "message" event's data is a received message."""

    def __init__(self, wire: Wire, exchange: dict[str, Any]) -> None:
        self.wire, self.exchange = wire, exchange
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buffer = ""
        self.data: list[str] = []
        self.id: str | None = None
        self.event: str | None = None

    def feed(self, chunk: bytes) -> None:
        self.buffer += self.decoder.decode(chunk)
        lines = self.buffer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.buffer = lines.pop()
        for line in lines:
            self.line(line)

    def line(self, line: str) -> None:
        if line == "":
            self.flush()
        elif line.startswith(":"):
            return
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                self.data.append(value)
            elif name == "event":
                self.event = value
            elif name == "id":
                self.id = self.exchange["lastId"] = value
            elif name == "retry":
                self.exchange["retry"] = int(value)

    def flush(self) -> None:
        text = "\n".join(self.data)
        via = f"{self.exchange['method']} {self.exchange['n']}"
        if self.event not in (None, "message"):
            # The legacy transport's "endpoint" event: not a JSON-RPC message.
            self.wire.named_events.append({"via": via, "event": self.event, "data": text})
        elif text.strip():
            self.exchange["messages"] += 1
            self.wire.record(text, self.wire.received, f"{via} id={self.id}" if self.id else via)
        self.data, self.id, self.event = [], None, None

    def end(self, how: str) -> None:
        self.feed(b"")
        if self.data:
            self.flush()
        self.exchange["ended"] = how


class BodySink:
    """Reads the copy of a JSON body, recorded when it is complete."""

    def __init__(self, wire: Wire, exchange: dict[str, Any]) -> None:
        self.wire, self.exchange = wire, exchange
        self.body = b""

    def feed(self, chunk: bytes) -> None:
        self.body += chunk

    def end(self, how: str) -> None:
        self.exchange["ended"] = how
        if how == "end":
            via = f"{self.exchange['method']} {self.exchange['n']}"
            self.wire.record(self.body.decode("utf-8", "replace"), self.wire.received, via)


class RecordingStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, sink: SseSink | BodySink) -> None:
        self.inner, self.sink = inner, sink

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                self.sink.feed(chunk)
                yield chunk
        except BaseException as exc:
            self.sink.end(f"error: {type(exc).__name__}")
            raise
        self.sink.end("end")

    async def aclose(self) -> None:
        await self.inner.aclose()


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange: dict[str, Any] = {
            "n": len(self.wire.exchanges),
            "method": request.method,
            "path": request.url.path,
            "lastEventId": request.headers.get("last-event-id"),
            "at": now(),
            "messages": 0,
        }
        self.wire.exchanges.append(exchange)
        body = await request.aread()
        if body:
            self.wire.record(body.decode(), self.wire.sent, f"{request.method} {exchange['n']}")
        response = await self.inner.handle_async_request(request)
        exchange["status"] = response.status_code
        exchange["contentType"] = response.headers.get("content-type")
        media = (exchange["contentType"] or "").split(";")[0].strip().lower()
        sink = SseSink(self.wire, exchange) if media == "text/event-stream" else BodySink(self.wire, exchange)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=RecordingStream(response.stream, sink),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


WIRE = Wire()


def recording_client(
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
    auth: httpx.Auth | None = None,
) -> httpx.AsyncClient:
    """An httpx client (the SDK's McpHttpClientFactory signature) that records the wire."""
    return httpx.AsyncClient(
        transport=RecordingTransport(WIRE),
        headers=headers,
        timeout=timeout or httpx.Timeout(STEP, read=TIMEOUT),
        auth=auth,
    )


# --- The client -----------------------------------------------------------------------------


def texts(result: types.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, types.TextContent)]


async def on_sampling(
    context: RequestContext[ClientSession, Any], params: types.CreateMessageRequestParams
) -> types.CreateMessageResult:
    note("sampling", params=params.model_dump(mode="json", by_alias=True, exclude_none=True))
    return types.CreateMessageResult(
        role="assistant",
        content=types.TextContent(type="text", text=SAMPLING_ANSWER),
        model=SAMPLING_MODEL,
        stopReason="endTurn",
    )


async def on_elicitation(
    context: RequestContext[ClientSession, Any], params: types.ElicitRequestParams
) -> types.ElicitResult:
    note("elicitation", params=params.model_dump(mode="json", by_alias=True, exclude_none=True))
    return types.ElicitResult(action="accept", content=dict(ELICITATION_CONTENT))


async def on_log(params: types.LoggingMessageNotificationParams) -> None:
    note("log", params=params.model_dump(mode="json", by_alias=True, exclude_none=True))


async def on_message(message: Any) -> None:
    if isinstance(message, types.ServerNotification):
        if isinstance(message.root, types.ToolListChangedNotification):
            note("tools_list_changed")
    elif isinstance(message, Exception):
        note("transport_error", error=repr(message))


def new_session(read: Any, write: Any) -> ClientSession:
    return ClientSession(
        read,
        write,
        read_timeout_seconds=timedelta(seconds=STEP),
        sampling_callback=on_sampling,
        elicitation_callback=on_elicitation,
        logging_callback=on_log,
        message_handler=on_message,
        client_info=CLIENT_INFO,
    )


async def call_tool(
    session: ClientSession, name: str, args: dict[str, Any], **options: Any
) -> dict[str, Any]:
    try:
        result = await asyncio.wait_for(session.call_tool(name, args, **options), STEP)
    except TimeoutError:
        raise TimeoutError(f"tools/call {name}: no result within {STEP:g}s") from None
    note("result", tool=name, texts=texts(result), isError=bool(result.isError))
    return {"texts": texts(result), "isError": bool(result.isError)}


async def until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + STEP
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {STEP:.0f}s")
        await asyncio.sleep(0.02)


# --- Scenarios ------------------------------------------------------------------------------


async def sampling(session: ClientSession) -> dict[str, Any]:
    prompt = "What is the capital of the e2e test?"
    call = await call_tool(session, "requestSampling", {"prompt": prompt})
    return {"prompt": prompt, "answer": SAMPLING_ANSWER, "model": SAMPLING_MODEL, "call": call}


async def elicitation(session: ClientSession) -> dict[str, Any]:
    message = "Who is running the Python e2e test?"
    call = await call_tool(session, "requestElicitation", {"message": message})
    return {"message": message, "content": ELICITATION_CONTENT, "call": call}


async def progress(session: ClientSession) -> dict[str, Any]:
    message = "slow hello from the Python SDK"

    async def on_progress(value: float, total: float | None, text: str | None) -> None:
        note("progress", progress={"progress": value, "total": total, "message": text})

    call = await call_tool(
        session, "slowEcho", {"message": message, "seconds": 2}, progress_callback=on_progress
    )
    return {"message": message, "call": call}


async def resume(session: ClientSession) -> dict[str, Any]:
    # SDK 1.30 resumes by itself: a POST stream that ends after an event id and without the
    # response is reopened with GET and Last-Event-ID after the server's retry interval.
    return {"mode": "sdk", "call": await call_tool(session, "dropStream", {})}


async def notifications(session: ClientSession) -> dict[str, Any]:
    sent = await call_tool(session, "sendNotifications", {"count": 3, "target": "session"})
    await until(lambda: sum(event["kind"] == "log" for event in EVENTS) >= 3, "three notifications/message")
    before = await asyncio.wait_for(session.list_tools(), STEP)
    triggered = await call_tool(session, "triggerListChanged", {})
    await until(lambda: any(event["kind"] == "tools_list_changed" for event in EVENTS), "tools/list_changed")
    after = await asyncio.wait_for(session.list_tools(), STEP)
    # Anything that would arrive late (a duplicate, say) has a moment to show up.
    await asyncio.sleep(0.5)
    return {
        "sent": sent,
        "triggered": triggered,
        "toolsBefore": [tool.name for tool in before.tools],
        "toolsAfter": [tool.name for tool in after.tools],
    }


async def legacy(session: ClientSession) -> dict[str, Any]:
    message = "legacy hello from the Python SDK"
    tools = await asyncio.wait_for(session.list_tools(), STEP)
    echo = await call_tool(session, "echo", {"message": message})
    replay = await call_tool(session, "replayLastEcho", {})
    return {"message": message, "tools": [tool.name for tool in tools.tools], "echo": echo, "replay": replay}


SCENARIOS = {
    "sampling": sampling,
    "elicitation": elicitation,
    "progress": progress,
    "resume": resume,
    "notifications": notifications,
    "legacy": legacy,
}


async def run(scenario: str, url: str) -> dict[str, Any]:
    outcome: dict[str, Any] = {"sdk": "python", "scenario": scenario}
    if scenario == "legacy":
        legacy_ids: list[str] = []
        transport = sse_client(
            url, timeout=STEP, httpx_client_factory=recording_client, on_session_created=legacy_ids.append
        )
        async with transport as (read, write), new_session(read, write) as session:
            init = await asyncio.wait_for(session.initialize(), STEP)
            outcome.update(await legacy(session))
        outcome["sessionId"] = legacy_ids[0] if legacy_ids else None
    else:
        async with (
            recording_client() as http,
            streamable_http_client(url, http_client=http) as (read, write, get_session_id),
            new_session(read, write) as session,
        ):
            init = await asyncio.wait_for(session.initialize(), STEP)
            outcome["sessionId"] = get_session_id()
            outcome.update(await SCENARIOS[scenario](session))
    outcome["protocolVersion"] = str(init.protocolVersion)
    outcome["serverName"] = init.serverInfo.name
    return outcome


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, which the SDK's task groups raise."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def main() -> None:
    scenario, url = sys.argv[1], sys.argv[2]
    if scenario not in SCENARIOS:
        sys.exit(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    try:
        outcome = asyncio.run(asyncio.wait_for(run(scenario, url), TIMEOUT))
        outcome["ok"] = True
    except BaseException as exc:
        causes = "; ".join(repr(leaf) for leaf in leaves(exc))
        trace = "".join(traceback.format_exception(exc))
        outcome = {"sdk": "python", "scenario": scenario, "ok": False, "error": f"{causes}\n{trace}"}
    outcome["events"] = EVENTS
    outcome["wire"] = WIRE.report()
    print(json.dumps(outcome))
    sys.exit(0 if outcome["ok"] else 1)


if __name__ == "__main__":
    main()
