"""Property-based fuzzing of /mcp (HTTP rules and JSON-RPC), in-process through the ASGI app.

Whatever arrives, the answer has a documented status (never 500), every non-empty body is
valid JSON-RPC (official schema) and never the -32603 of an unexpected exception, and the
server stays healthy: sessions opened before the fuzzing still answer ``ping`` after every
example and still have their state at the end. GET streams that open are hung up on at once.

Each property drives its own event loop (hypothesis calls the example function synchronously),
so one loop and one httpx client serve all examples of a test; the conftest's store/bus reset
runs per test, not per example, which is why health is checked after each example instead.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from echoserver.asgi import application
from mcp.dispatch.sessions import METHODS, NOTIFICATIONS
from tests.support.client import McpClient, messages_of
from tests.support.schema_check import assert_valid

T = TypeVar("T")

DOCUMENTED = {200, 202, 400, 403, 404, 405, 406, 413, 415, 429, 503}
KEEP = "keep me"
EXAMPLE_TIMEOUT = 10.0
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Tools that answer at once (no sleeps, no server-to-client requests), so an example never waits.
QUICK_TOOLS = [
    "echo",
    "replayLastEcho",
    "printHeader",
    "bearerDecode",
    "authContext",
    "requestTiming",
    "corsAnalysis",
    "environmentDump",
    "healthProbe",
    "sessionInfo",
    "whoIStheGOAT",
    "triggerListChanged",
    "updateResource",
    "dynamicEcho",
    "calculate",
    "batch_calculate",
    "advanced_calculate",
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_error_handling",
    "json_schema_2020_12_tool",
]


class Harness:
    """One event loop, one client, and two sessions (2025-11-25, and 2025-03-26 for batches)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 51000))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000")
        self.modern = McpClient(self.http)
        self.batching = McpClient(self.http)
        self.run(self._open())
        self.statuses: Counter[int] = Counter()

    async def _open(self) -> None:
        await self.modern.initialize()
        await self.batching.initialize(version="2025-03-26")
        for client in (self.modern, self.batching):
            assert (await client.tool_text("echo", {"message": KEEP})).endswith(KEEP)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, EXAMPLE_TIMEOUT))

    def get(self, headers: list[tuple[bytes, bytes]]) -> tuple[int, str, bytes]:
        """A GET straight into the app; a stream that opens is hung up on at once."""

        async def exchange() -> tuple[int, str, bytes]:
            answer = await open_get(headers)
            await self.assert_healthy()
            return answer

        answer = self.run(exchange())
        self.statuses[answer[0]] += 1
        return answer

    def send(self, body: bytes, headers: list[tuple[bytes, bytes]] | dict[str, str]) -> httpx.Response:
        """POST, check the answer and the server's health; the answer, for more checks."""

        async def exchange() -> httpx.Response:
            response = await self.http.post("/mcp", content=body, headers=headers)
            check_answer(response)
            await self.assert_healthy()
            return response

        response = self.run(exchange())
        self.statuses[response.status_code] += 1
        return response

    async def assert_healthy(self) -> None:
        for client in (self.modern, self.batching):
            assert (await client.rpc("ping"))["result"] == {}

    async def _final_check(self) -> None:
        health = await self.http.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        for client in (self.modern, self.batching):
            # Its state is still there (a fuzzed echo may have replaced "keep me", never erased it).
            assert (await client.tool_text("replayLastEcho", {})).startswith("[REPLAY - Session")

    def close(self) -> None:
        try:
            self.run(self._final_check())
        finally:
            self.loop.run_until_complete(self._shut_down())
            self.loop.close()

    async def _shut_down(self) -> None:
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.http.aclose()


@pytest.fixture
def harness():
    h = Harness()
    yield h
    h.close()


def check_answer(response: httpx.Response) -> None:
    """A documented status; no body on 202; otherwise valid JSON-RPC, errors for 4xx/5xx, no crash."""
    assert response.status_code in DOCUMENTED, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code == 202:
        assert response.content == b""
        return
    content_type = response.headers.get("content-type", "")
    if not response.content:
        assert response.status_code in (200, 405), response.status_code
        return
    assert content_type == "application/json" or content_type.startswith("text/event-stream"), content_type
    messages = messages_of(response)  # each checked against the official schema
    assert messages, response.text[:500]
    for message in messages:
        # -32603 is the catch-all for an exception nobody expected: a crash, whatever the status.
        assert message.get("error", {}).get("code") != -32603, message
    if response.status_code >= 400:
        [message] = messages
        assert "error" in message and isinstance(message["error"]["code"], int)


async def open_get(headers: list[tuple[bytes, bytes]]) -> tuple[int, str, bytes]:
    """(status, content type, body) of GET /mcp; an SSE stream is closed by the client at once.

    httpx's ASGITransport would wait for the end of a stream that never ends, hence raw ASGI.
    """
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:3000"), *headers],
        "client": ("127.0.0.1", 51000),
        "server": ("127.0.0.1", 3000),
    }
    status, content_type, body = 0, "", b""
    done = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, content_type, body
        if message["type"] == "http.response.start":
            status = message["status"]
            found = dict(message["headers"])
            content_type = (found.get(b"content-type") or found.get(b"Content-Type") or b"").decode()
            if content_type.startswith("text/event-stream"):
                done.set()  # hang up: the stream opened
        else:
            body += message.get("body", b"")
            if not message.get("more_body", False):
                done.set()

    await application(scope, receive, send)
    return status, content_type, body


# --- Strategies ------------------------------------------------------------------------------------

LONE_SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "a\ud800b"])
TEXT = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=8),
    LONE_SURROGATES,
)
INTEGERS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 2**63, 2**64, 2**64 + 1, -(2**63) - 1, 10**400]),
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INTEGERS | FLOATS | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=16,
)


def to_json(value: Any, *, ascii_only: bool = True) -> bytes:
    """Python's encoder: big integers and NaN are written out (as a hostile client would)."""
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")


ABSENT = object()
IDS = st.one_of(
    INTEGERS,
    TEXT,
    st.none(),
    st.booleans(),
    FLOATS,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
METHOD_NAMES = st.one_of(
    st.sampled_from([*METHODS, *NOTIFICATIONS, "initialize", "tools/call", "tools/call"]),
    TEXT,
    st.sampled_from(["", "tools/", "notifications/", "rpc.discover", "x" * 5000]),
    JSON_VALUES,
)
TOOL_NAMES = st.one_of(st.sampled_from(QUICK_TOOLS), TEXT, JSON_VALUES)
ARGUMENT_NAMES = st.sampled_from(
    [
        *("message", "includeRaw", "showSecrets", "a", "b", "op", "stream", "operation", "value"),
        *("base", "calculations", "kind", "uri", "name", "address", "precision", "count", "target"),
    ]
)
ARGUMENT_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from(
        ["add", "divide", "factorial", "power", "sqrt", "log", "tools", "prompts", "echo://counter"]
    ),
)
ARGUMENTS = st.one_of(st.dictionaries(ARGUMENT_NAMES, ARGUMENT_VALUES, max_size=4), JSON_VALUES)
PARAMS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "name": TOOL_NAMES,
            "arguments": ARGUMENTS,
            "cursor": st.one_of(TEXT, JSON_VALUES),
            "_meta": st.one_of(st.fixed_dictionaries({"progressToken": IDS}), JSON_VALUES),
            "uri": st.one_of(st.sampled_from(["echo://counter", "calculator://stats", "test://x"]), TEXT),
            "level": st.one_of(st.sampled_from(["debug", "info", "emergency"]), JSON_VALUES),
            "requestId": IDS,
            "taskId": st.one_of(TEXT, JSON_VALUES),
            "task": JSON_VALUES,
            "ref": JSON_VALUES,
            "argument": JSON_VALUES,
            "protocolVersion": st.one_of(st.sampled_from(["2025-11-25", "2024-11-05"]), JSON_VALUES),
            "clientInfo": JSON_VALUES,
            "capabilities": JSON_VALUES,
        },
    ),
    JSON_VALUES,
)
ERRORS = st.one_of(st.fixed_dictionaries({"code": INTEGERS, "message": TEXT}), JSON_VALUES)
SHAPELESS = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.one_of(st.just("2.0"), JSON_VALUES),
        "id": IDS,
        "method": METHOD_NAMES,
        "params": PARAMS,
        "result": JSON_VALUES,
        "error": ERRORS,
    },
)
GOOD_IDS = st.one_of(st.integers(min_value=-(2**63), max_value=2**64 - 1), st.text(max_size=12))
KNOWN_METHODS = st.sampled_from([*METHODS, "tools/call", "tools/call", "tools/call"])


@st.composite
def messages(draw: st.DrawFn) -> Any:
    """Mostly well-formed envelopes (so the handlers are reached), with every field sometimes wrong."""
    kind = draw(st.sampled_from(["request", "request", "request", "notification", "response", "shapeless"]))
    if kind == "shapeless":
        return draw(SHAPELESS)
    message: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        message["jsonrpc"] = "2.0"
    elif draw(st.booleans()):
        message["jsonrpc"] = draw(JSON_VALUES)
    if kind == "response":
        message["id"] = draw(st.one_of(GOOD_IDS, IDS))
        if draw(st.booleans()):
            message["result"] = draw(st.one_of(st.dictionaries(TEXT, JSON_VALUES, max_size=3), JSON_VALUES))
        else:
            message["error"] = draw(ERRORS)
        return message
    if kind == "request":
        message["id"] = draw(GOOD_IDS) if draw(st.integers(0, 4)) else draw(IDS)
        message["method"] = draw(KNOWN_METHODS) if draw(st.integers(0, 3)) else draw(METHOD_NAMES)
    else:
        message["method"] = draw(st.one_of(st.sampled_from(list(NOTIFICATIONS)), METHOD_NAMES))
    if draw(st.integers(0, 4)):
        message["params"] = draw(PARAMS)
    return message


MESSAGES = messages()
VALID_BODIES = [
    b'{"jsonrpc":"2.0","id":1,"method":"ping"}',
    b'{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}',
    b'{"jsonrpc":"2.0","method":"notifications/initialized"}',
    b'{"jsonrpc":"2.0","id":"s","result":{}}',
    b'[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"}]',
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid body with a few bytes replaced, inserted or cut."""
    body = bytearray(draw(st.sampled_from(VALID_BODIES)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(["replace", "insert", "cut"]))
        chunk = draw(st.binary(min_size=1, max_size=4))
        if kind == "insert" or position == len(body):
            body[position:position] = chunk
        elif kind == "replace":
            body[position : position + len(chunk)] = chunk
        else:
            del body[position : position + len(chunk)]
    return bytes(body)


HEADER_BYTES = st.binary(max_size=40).map(lambda raw: bytes(b for b in raw if b == 9 or 32 <= b != 127))
SESSION = ["modern", "batching"]


def session_headers(client: McpClient) -> dict[str, str]:
    return client.headers()


# --- Properties ------------------------------------------------------------------------------------


def test_arbitrary_bytes_bodies(harness: Harness):
    @FUZZ
    @given(body=st.one_of(st.binary(max_size=300), mutated()), which=st.sampled_from(SESSION))
    def prop(body: bytes, which: str) -> None:
        harness.send(body, session_headers(getattr(harness, which)))

    prop()
    assert harness.statuses[400] > 0


def test_arbitrary_json_values(harness: Harness):
    @FUZZ
    @given(value=JSON_VALUES, which=st.sampled_from(SESSION), ascii_only=st.booleans())
    def prop(value: Any, which: str, ascii_only: bool) -> None:
        harness.send(to_json(value, ascii_only=ascii_only), session_headers(getattr(harness, which)))

    prop()
    assert harness.statuses[400] > 0


def test_plausible_json_rpc_messages(harness: Harness):
    @FUZZ
    @given(
        messages=st.one_of(MESSAGES, st.lists(MESSAGES, min_size=1, max_size=4)),
        which=st.sampled_from(SESSION),
    )
    def prop(messages: Any, which: str) -> None:
        client = getattr(harness, which)
        response = harness.send(to_json(messages), session_headers(client))
        if isinstance(messages, dict) and isinstance(messages.get("id"), str) and response.status_code == 200:
            # An answer to a request carries that request's id.
            [*_, final] = [m for m in messages_of(response) if "result" in m or "error" in m]
            assert final["id"] == messages["id"]

    prop()
    # The strategy reaches the handlers, not only the envelope checks.
    assert harness.statuses[200] > 0 and harness.statuses[400] > 0


HEADER_VALUES = {
    "Accept": [
        "application/json, text/event-stream",
        "application/json",
        "text/event-stream",
        "*/*",
        "text/html",
        "application/json;q=0, text/event-stream;q=0",
        "text/*;q=0.5, application/*",
    ],
    "Content-Type": [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/plain",
        "application/jsonx",
        "multipart/form-data; boundary=x",
    ],
    "MCP-Protocol-Version": ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2026-01-01", ""],
    "Mcp-Session-Id": ["", "f" * 32, "a" * 129, "has space"],
}


@st.composite
def header_sets(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    real_session = draw(st.sampled_from(SESSION))
    headers: list[tuple[bytes, bytes]] = []
    for name, plausible in HEADER_VALUES.items():
        choice = draw(st.sampled_from(["absent", "plausible", "plausible", "real", "random"]))
        if choice == "absent":
            continue
        if choice == "random":
            value = draw(HEADER_BYTES)
        elif choice == "real" and name == "Mcp-Session-Id":
            value = b"<real>" + real_session.encode()
        else:
            value = draw(st.sampled_from(plausible)).encode()
        headers.append((name.lower().encode(), value))
    return headers


def test_random_header_values(harness: Harness):
    @FUZZ
    @given(headers=header_sets(), body=st.sampled_from(VALID_BODIES))
    def prop(headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        concrete = []
        for name, value in headers:
            if value.startswith(b"<real>"):
                value = getattr(harness, value[len(b"<real>") :].decode()).session_id.encode()
            concrete.append((name, value))
        harness.send(body, concrete)

    prop()
    assert len(harness.statuses) >= 4  # many different outcomes were reached


# Last-Event-ID values shaped like this server's ("g-7", "r3-12") and not, with the Latin-1
# superscripts that str.isdigit() accepts and int() refuses (a 500 at dbfd566).
EVENT_IDS = st.one_of(
    st.builds(
        lambda stream, sep, seq: f"{stream}{sep}{seq}".encode("latin-1"),
        st.sampled_from(["g", "g", "r1", "r1", "r", "r0", "r99999999999", "x", "", "g-g", " g"]),
        st.sampled_from(["-", "-", "-", "--", "", "_"]),
        st.one_of(
            st.integers(-5, 10**25).map(str),
            st.text("0123456789", min_size=1, max_size=20),
            st.text("0123456789\u00b9\u00b2\u00b3", min_size=1, max_size=20),
            st.text("0123456789-+ .e", max_size=22),
        ),
    ),
    HEADER_BYTES,
)


@st.composite
def get_headers(draw: st.DrawFn) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    accept = draw(
        st.sampled_from(["text/event-stream", "text/event-stream", "*/*", "application/json", "", "?"])
    )
    headers.append((b"accept", draw(HEADER_BYTES) if accept == "?" else accept.encode()))
    session = draw(st.sampled_from(["modern", "batching", "modern", "unknown", "absent", "random"]))
    if session in SESSION:
        headers.append((b"mcp-session-id", b"<real>" + session.encode()))
    elif session == "unknown":
        headers.append((b"mcp-session-id", b"f" * 32))
    elif session == "random":
        headers.append((b"mcp-session-id", draw(HEADER_BYTES)))
    if draw(st.booleans()):
        version = draw(st.one_of(st.sampled_from(["2025-11-25", "2025-03-26", "1999-01-01"]), HEADER_BYTES))
        headers.append((b"mcp-protocol-version", version if isinstance(version, bytes) else version.encode()))
    if draw(st.integers(0, 3)):
        headers.append((b"last-event-id", draw(EVENT_IDS)))
    return headers


def test_random_get_headers_and_last_event_ids(harness: Harness):
    @FUZZ
    @given(headers=get_headers())
    def prop(headers: list[tuple[bytes, bytes]]) -> None:
        concrete = [
            (name, getattr(harness, value[len(b"<real>") :].decode()).session_id.encode())
            if value.startswith(b"<real>")
            else (name, value)
            for name, value in headers
        ]
        status, content_type, body = harness.get(concrete)
        assert status in DOCUMENTED, (status, body[:500])
        if status == 200:
            assert content_type.startswith("text/event-stream")
        else:
            assert content_type == "application/json", (status, content_type, body[:200])
            message = assert_valid(orjson.loads(body))
            assert "error" in message and message["error"]["code"] != -32603
            assert "Traceback" not in body.decode("utf-8", "replace")

    prop()
    assert harness.statuses[200] > 0 and len(harness.statuses) >= 3
