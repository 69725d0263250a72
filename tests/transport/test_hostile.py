"""A catalogue of hostile input against /mcp: each gets its documented error, and nothing breaks.

Every case runs between two checks (the ``survivor`` fixture): before it, a session echoes
"keep me"; after it, ``GET /health`` answers 200 and that session's ``replayLastEcho`` still
shows "keep me". An error is checked the way a client sees it: the status of the README's
error table, a body that is a valid JSON-RPC error (official schema), no traceback.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import tracemalloc
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from echoserver.asgi import application
from mcp.store import get_store
from tests.support.client import ACCEPT_BOTH, McpClient, messages_of, parse_sse
from tests.support.schema_check import assert_valid

KEEP = "keep me"
NO_ID = object()  # the error must carry no id (it could not be read)
ANY_ID = object()  # not checked
DROP = object()  # the header is left out
ALLOW = "GET, POST, DELETE, OPTIONS"
MiB = 1024 * 1024
PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
# An echo call up to its message's value: ECHO_OPEN + b'"text"}}}' is the whole request.
ECHO_OPEN = b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":'


# --- The before/after around every case --------------------------------------------------------


@pytest.fixture
async def survivor(session: McpClient) -> AsyncIterator[McpClient]:
    """A session holding state before the case; afterwards the server and that state are intact."""
    assert (await session.tool_text("echo", {"message": KEEP})).endswith(KEEP)
    yield session
    health = await session.http.get("/health")
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok"
    assert (await session.tool_text("replayLastEcho", {})).endswith(f"] {KEEP}")


def assert_rpc_error(response: httpx.Response, status: int, code: int, *, id: Any = NO_ID) -> dict:
    """The documented status, with a JSON-RPC error body a client can read, and nothing internal."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/json"
    body = assert_valid(response.json())
    assert body["jsonrpc"] == "2.0"
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if id is NO_ID:
        assert "id" not in body
    elif id is not ANY_ID:
        assert body["id"] == id
    assert_nothing_internal(response.text)
    return body


def assert_nothing_internal(text: str) -> None:
    for marker in ("Traceback", 'File "', "site-packages", "/work/", "Exception:"):
        assert marker not in text, text[:500]


def rpc(method: Any, params: Any = DROP, id: Any = 1) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if id is not DROP:
        message["id"] = id
    if params is not DROP:
        message["params"] = params
    return orjson.dumps(message)


def call(name: Any, arguments: Any = DROP, id: Any = 7) -> bytes:
    params: dict[str, Any] = {"name": name}
    if arguments is not DROP:
        params["arguments"] = arguments
    return rpc("tools/call", params, id)


def nested(depth: int, kind: str = "array") -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def raw_headers(client: McpClient, changes: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """The client's usual headers with ``changes`` applied: a new value (str or bytes), or DROP."""
    headers: dict[str, Any] = {name.lower(): value for name, value in client.headers().items()}
    for name, value in changes.items():
        if value is DROP:
            headers.pop(name.lower(), None)
        else:
            headers[name.lower()] = value
    return [
        (name.encode(), value if isinstance(value, bytes) else value.encode("latin-1"))
        for name, value in headers.items()
    ]


# --- Raw ASGI, for what httpx will not send (no Host header, a lying Content-Length), for
# streamed bodies (to see when the answer starts), and for streams that never end -----------


class Body:
    """A request body sent chunk by chunk, counting what the server has pulled so far."""

    CHUNK = b" " * (64 * 1024)

    def __init__(self, total: int = 0, prefix: bytes = b"") -> None:
        self.total = max(total, len(prefix))
        self.prefix = prefix
        self.pulled = 0

    def chunks(self) -> Iterator[bytes]:
        if self.prefix:
            self.pulled += len(self.prefix)
            yield self.prefix
        while self.pulled < self.total:
            chunk = self.CHUNK[: self.total - self.pulled]
            self.pulled += len(chunk)
            yield chunk


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    pulled_at_start: int = 0  # body bytes the server had pulled when its answer started

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def raw_request(
    method: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes | Body = b"",
    *,
    path: str = "/mcp",
    hang_up_after_first_chunk: bool = False,
    timeout: float = 10.0,
) -> RawAnswer:
    """One request straight into the ASGI app; optionally the client hangs up once data arrives."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 51000),
        "server": ("127.0.0.1", 3000),
    }
    stream = body if isinstance(body, Body) else Body(prefix=body)
    chunks = stream.chunks()
    answer = RawAnswer(0, {})
    enough = asyncio.Event()
    sent_all = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_all
        if not sent_all:
            await asyncio.sleep(0)  # like a socket: the server's other tasks run between chunks
            chunk = next(chunks, None)
            if chunk is not None:
                return {"type": "http.request", "body": chunk, "more_body": True}
            sent_all = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await enough.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = {k.decode().lower(): v.decode("latin-1") for k, v in message["headers"]}
            answer.pulled_at_start = stream.pulled
            return
        chunk = message.get("body", b"")
        answer.body += chunk
        if not message.get("more_body", False) or (hang_up_after_first_chunk and chunk):
            enough.set()

    await asyncio.wait_for(application(scope, receive, send), timeout)
    return answer


def assert_raw_error(answer: RawAnswer, status: int, code: int) -> dict:
    assert answer.status == status, (answer.status, answer.text[:500])
    assert answer.headers["content-type"] == "application/json"
    body = assert_valid(orjson.loads(answer.body))
    assert body["error"]["code"] == code and "id" not in body
    assert_nothing_internal(answer.text)
    return body


# --- The catalogue: one POST each, with the documented answer -----------------------------------


@dataclass(frozen=True)
class Case:
    body: bytes
    status: int
    code: int
    headers: dict[str, Any] = field(default_factory=dict)
    id: Any = NO_ID


def case(name: str, body: bytes, status: int, code: int, *, id: Any = NO_ID, **headers: Any):
    renamed = {header.replace("_", "-"): value for header, value in headers.items()}
    return pytest.param(Case(body, status, code, renamed, id), id=name)


NO_SESSION = {"Mcp_Session_Id": DROP, "MCP_Protocol_Version": DROP}  # as case() keywords
NO_SESSION_HEADERS = {"Mcp-Session-Id": DROP, "MCP-Protocol-Version": DROP}
JSON_NOT_PARSED = (400, -32700)
INVALID = (400, -32600)

CATALOGUE = [
    # Not JSON at all.
    case("empty body", b"", *JSON_NOT_PARSED),
    case("whitespace body", b" \r\n\t ", *JSON_NOT_PARSED),
    case("truncated object", b'{"jsonrpc": "2.0", "id": 1, "method": ', *JSON_NOT_PARSED),
    case("trailing garbage", PING + b' {"x":1}', *JSON_NOT_PARSED),
    case("trailing NUL", PING + b"\x00", *JSON_NOT_PARSED),
    case("trailing comma", b'{"jsonrpc":"2.0","id":1,"method":"ping",}', *JSON_NOT_PARSED),
    case("UTF-8 BOM", b"\xef\xbb\xbf" + PING, *JSON_NOT_PARSED),
    case(
        "invalid UTF-8 byte", b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xff"}}', 400, -32700
    ),
    case(
        "overlong UTF-8", b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xc0\xaf"}}', 400, -32700
    ),
    case("truncated UTF-8", b'{"jsonrpc":"2.0","id":1,"method":"\xe2\x82"}', *JSON_NOT_PARSED),
    case("lone surrogate in a string", ECHO_OPEN + b'"\\ud800"}}}', 400, -32700),
    case(
        "lone low surrogate as a key",
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"\\udfff":1}}',
        400,
        -32700,
    ),
    case("NaN id", b'{"jsonrpc":"2.0","id":NaN,"method":"ping"}', *JSON_NOT_PARSED),
    case("Infinity id", b'{"jsonrpc":"2.0","id":Infinity,"method":"ping"}', *JSON_NOT_PARSED),
    case(
        "-Infinity in params",
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":-Infinity}}',
        400,
        -32700,
    ),
    case("id 10**400", b'{"jsonrpc":"2.0","id":1' + b"0" * 400 + b',"method":"ping"}', *JSON_NOT_PARSED),
    # Nesting: MCP_MAX_JSON_DEPTH (64), and far past what any recursive parser survives.
    case("nested arrays 100", nested(100), *JSON_NOT_PARSED),
    case("nested arrays 2000", nested(2000), *JSON_NOT_PARSED),
    case("nested arrays 200000", nested(200_000), *JSON_NOT_PARSED),
    case("nested objects 200000", nested(200_000, "object"), *JSON_NOT_PARSED),
    case(
        "nested 100 inside params",
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":' + nested(100) + b"}}",
        *JSON_NOT_PARSED,
    ),
    # JSON, but not one JSON-RPC message.
    case("scalar 42", b"42", *INVALID, **NO_SESSION),
    case("scalar null", b"null", *INVALID, **NO_SESSION),
    case("scalar true", b"true", *INVALID, **NO_SESSION),
    case('scalar "x"', b'"x"', *INVALID, **NO_SESSION),
    case("scalar -1.5e300", b"-1.5e300", *INVALID, **NO_SESSION),
    case("empty array in a 2025-11-25 session", b"[]", *INVALID),
    case("array of junk in a 2025-11-25 session", b'[1, "junk", null, {}, []]', *INVALID),
    case("array of requests in a 2025-11-25 session", b"[" + PING + b"]", *INVALID),
    case("array without a session", b"[" + PING + b"]", *INVALID, **NO_SESSION),
    case("empty object", b"{}", *INVALID),
    case("jsonrpc missing", b'{"id":3,"method":"ping"}', *INVALID, id=3),
    case('jsonrpc "1.0"', b'{"jsonrpc":"1.0","id":3,"method":"ping"}', *INVALID, id=3),
    case("jsonrpc number 2.0", b'{"jsonrpc":2.0,"id":3,"method":"ping"}', *INVALID, id=3),
    case("result and error both", b'{"jsonrpc":"2.0","id":"s","result":{},"error":{}}', *INVALID, id="s"),
    case("response with null result", b'{"jsonrpc":"2.0","id":"s","result":null}', *INVALID, id="s"),
    case("method 42", rpc(42, id=4), *INVALID, id=4),
    case("method null", rpc(None, id=4), *INVALID, id=4),
    case("method empty", rpc("", id=4), *INVALID, id=4),
    case("method list", rpc(["ping"], id=4), *INVALID, id=4),
    # Ids MCP does not allow: strings and integers only.
    case("id null", rpc("ping", id=None), *INVALID),
    case("id 1.0", b'{"jsonrpc":"2.0","id":1.0,"method":"ping"}', *INVALID),
    case("id -0.5", rpc("ping", id=-0.5), *INVALID),
    case("id false", rpc("ping", id=False), *INVALID),
    case("id object", rpc("ping", id={"a": 1}), *INVALID),
    case("id empty array", rpc("ping", id=[]), *INVALID),
    case("id array", rpc("ping", id=[1]), *INVALID),
    case("id 2**64+1", b'{"jsonrpc":"2.0","id":18446744073709551617,"method":"ping"}', *INVALID),
    case("id -(2**63)-1", b'{"jsonrpc":"2.0","id":-9223372036854775809,"method":"ping"}', *INVALID),
    # params of the wrong type.
    case("params array", rpc("tools/call", ["echo", {}], id=7), 400, -32602, id=7),
    case("params string", rpc("tools/call", "echo", id=8), 400, -32602, id=8),
    case("params number", rpc("tools/call", 3, id=8), 400, -32602, id=8),
    case("params true", rpc("tools/call", True, id=8), 400, -32602, id=8),
    case("notification params array", rpc("notifications/cancelled", [1], id=DROP), 400, -32602),
    case("initialize params array", rpc("initialize", [], id=4), 400, -32602, id=4, **NO_SESSION),
    # initialize where it does not belong.
    case("initialize with a session header", rpc("initialize", {}, id=4), *INVALID),
    case("initialize as a notification", rpc("initialize", {}, id=DROP), *INVALID, **NO_SESSION),
    # Headers.
    case("Content-Type missing", PING, 415, -32600, Content_Type=DROP),
    case("Content-Type empty", PING, 415, -32600, Content_Type=""),
    case("Content-Type text/plain", PING, 415, -32600, Content_Type="text/plain"),
    case("Content-Type application/jsonx", PING, 415, -32600, Content_Type="application/jsonx"),
    case("Content-Type json-patch", PING, 415, -32600, Content_Type="application/json-patch+json"),
    case("Content-Type form", PING, 415, -32600, Content_Type="application/x-www-form-urlencoded"),
    case("Content-Type non-ASCII", PING, 415, -32600, Content_Type=b"application/json\xff"),
    case("Accept text/html", PING, 406, -32600, Accept="text/html"),
    case("Accept both q=0", PING, 406, -32600, Accept="application/json;q=0, text/event-stream;q=0"),
    case("Accept application/* q=0", PING, 406, -32600, Accept="application/*; q=0"),
    case("Accept garbage", PING, 406, -32600, Accept=";;;,,,"),
    case("Accept non-ASCII", PING, 406, -32600, Accept=b"\xfe\xff/\xff"),
    case("Mcp-Session-Id empty", PING, 400, -32600, Mcp_Session_Id=""),
    case("Mcp-Session-Id a space", PING, 400, -32600, Mcp_Session_Id=" "),
    case("Mcp-Session-Id with spaces", PING, 400, -32600, Mcp_Session_Id="abc def"),
    case("Mcp-Session-Id with a tab", PING, 400, -32600, Mcp_Session_Id="abc\tdef"),
    case("Mcp-Session-Id 129 chars", PING, 400, -32600, Mcp_Session_Id="a" * 129),
    case("Mcp-Session-Id 10 KB", PING, 400, -32600, Mcp_Session_Id="a" * 10240),
    case("Mcp-Session-Id non-ASCII", PING, 400, -32600, Mcp_Session_Id=b"\xff\xfe"),
    case("Mcp-Session-Id UTF-8", PING, 400, -32600, Mcp_Session_Id="séance".encode()),
    case("Mcp-Session-Id unknown", PING, 404, -32001, Mcp_Session_Id="f" * 32),
    case("Mcp-Session-Id unknown 128 chars", PING, 404, -32001, Mcp_Session_Id="a" * 128),
    case("Mcp-Session-Id ../", PING, 404, -32001, Mcp_Session_Id="../../etc/passwd"),
    case("MCP-Protocol-Version unknown", PING, 400, -32600, MCP_Protocol_Version="1999-01-01"),
    case("MCP-Protocol-Version garbage", PING, 400, -32600, MCP_Protocol_Version="garbage"),
    case("MCP-Protocol-Version empty", PING, 400, -32600, MCP_Protocol_Version=""),
    case("MCP-Protocol-Version list", PING, 400, -32600, MCP_Protocol_Version="2025-11-25, 2025-06-18"),
    case("MCP-Protocol-Version non-ASCII", PING, 400, -32600, MCP_Protocol_Version=b"2025-11-25\xff"),
    case("MCP-Protocol-Version 10 KB", PING, 400, -32600, MCP_Protocol_Version="9" * 10240),
    case("Host evil", PING, 403, -32600, Host="evil.example"),
    case("Host evil with port", PING, 403, -32600, Host="evil.example:3000"),
    case("Host allowed as a prefix", PING, 403, -32600, Host="127.0.0.1.evil.example"),
    case("Host with userinfo", PING, 403, -32600, Host="localhost:3000@evil.example"),
    case("Host empty", PING, 403, -32600, Host=""),
    case("Host bad port", PING, 403, -32600, Host="localhost:abc"),
    case("Host non-ASCII", PING, 403, -32600, Host=b"l\xf6calhost"),
    case("Origin null", PING, 403, -32600, Origin="null"),
    case("Origin evil", PING, 403, -32600, Origin="http://evil.example"),
    case("Origin allowed as a prefix", PING, 403, -32600, Origin="http://localhost.evil.example"),
    case("Origin https on an http-only allow-list", PING, 403, -32600, Origin="https://localhost"),
    case("Origin file", PING, 403, -32600, Origin="file://"),
    case("Origin garbage", PING, 403, -32600, Origin="::::"),
    case("Origin empty", PING, 403, -32600, Origin=""),
]


@pytest.mark.parametrize("hostile", CATALOGUE)
async def test_hostile_post_gets_its_documented_error(survivor, hostile: Case):
    headers = raw_headers(survivor, hostile.headers)
    response = await survivor.http.post("/mcp", content=hostile.body, headers=headers)
    assert_rpc_error(response, hostile.status, hostile.code, id=hostile.id)
    # A refused exchange never creates a session or hands one out.
    assert "mcp-session-id" not in response.headers or hostile.status == 404
    assert (await get_store().stats()).active == 1


async def test_a_missing_host_header_gets_403(survivor):
    headers = [(k, v) for k, v in raw_headers(survivor, {}) if k != b"host"]
    assert_raw_error(await raw_request("POST", headers, PING), 403, -32600)


# --- Limits on size ------------------------------------------------------------------------------


def vm_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def measured(request: Coroutine[Any, Any, RawAnswer]) -> tuple[RawAnswer, int, int]:
    """The answer, the traced allocation peak and the VmRSS growth while it was made."""
    gc.collect()
    rss_before = vm_rss()
    tracemalloc.start()
    try:
        answer = await request
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return answer, peak, vm_rss() - rss_before


def post_headers(client: McpClient, content_length: bytes | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"host", b"127.0.0.1:3000"), *raw_headers(client, {})]
    if content_length is not None:
        headers.append((b"content-length", content_length))
    return headers


def assert_refused_early_and_small(answer: RawAnswer, peak: int, rss_growth: int, limit: int) -> None:
    """413 as a JSON-RPC error, started long before the 20 MB were sent, never buffered whole."""
    assert_raw_error(answer, 413, -32600)
    assert answer.pulled_at_start < limit + 4 * MiB, f"answered after {answer.pulled_at_start} bytes"
    assert peak < 10 * MiB, f"{peak / MiB:.1f} MiB allocated while refusing"
    assert rss_growth < 10 * MiB, f"RSS grew {rss_growth / MiB:.1f} MiB while refusing"


async def test_a_20_mb_body_with_its_content_length_is_refused_at_once(survivor, settings):
    headers = post_headers(survivor, str(20 * MiB).encode())
    answer, peak, rss_growth = await measured(raw_request("POST", headers, Body(20 * MiB)))
    assert_refused_early_and_small(answer, peak, rss_growth, 0)


async def test_a_20_mb_chunked_body_is_refused_once_it_passes_the_limit(survivor, settings):
    body = Body(20 * MiB, prefix=b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"')
    answer, peak, rss_growth = await measured(raw_request("POST", post_headers(survivor, None), body))
    assert_refused_early_and_small(answer, peak, rss_growth, settings.MCP_MAX_BODY_BYTES)


async def test_a_20_mb_body_under_a_small_content_length_is_refused_at_the_limit(survivor, settings):
    headers = post_headers(survivor, b"100")
    answer, peak, rss_growth = await measured(raw_request("POST", headers, Body(20 * MiB)))
    assert_refused_early_and_small(answer, peak, rss_growth, settings.MCP_MAX_BODY_BYTES)


async def test_a_huge_content_length_over_a_small_body_is_refused(survivor):
    answer = await raw_request("POST", post_headers(survivor, str(10**15).encode()), PING)
    assert_raw_error(answer, 413, -32600)


async def test_a_20_mb_body_sent_whole_is_refused_and_leaves_no_trace(survivor):
    big = ECHO_OPEN + b'"' + b"A" * (20 * MiB) + b'"}}}'
    gc.collect()
    rss_before = vm_rss()
    for _ in range(3):
        assert_rpc_error(await survivor.post(big), 413, -32600)
    gc.collect()
    assert vm_rss() - rss_before < 10 * MiB


async def test_a_content_length_over_the_real_body_reads_the_body_that_came(survivor):
    answer = await raw_request("POST", post_headers(survivor, b"4000"), PING)
    assert answer.status == 200, answer.text
    assert orjson.loads(answer.body) == {"jsonrpc": "2.0", "id": 1, "result": {}}


@pytest.mark.parametrize("length", [b"abc", b"12abc", b"-5", "٣".encode()])
async def test_a_malformed_content_length_is_not_too_large(survivor, length):
    # A 40-byte body is not over any limit, whatever its Content-Length says.
    answer = await raw_request("POST", post_headers(survivor, length), PING)
    assert answer.status in (200, 400), answer.text
    if answer.status == 400:
        assert_raw_error(answer, 400, -32600)


async def test_a_string_over_the_string_limit_is_413_and_changes_nothing(survivor, settings):
    settings.MCP_MAX_STRING_BYTES = 1000
    assert_rpc_error(await survivor.post(call("echo", {"message": "x" * 2000})), 413, -32600)
    assert_rpc_error(await survivor.post(call("echo", {"k" * 2000: "v"})), 413, -32600)
    # The limit is the limit: a string of exactly 1000 characters is fine (and then replaced).
    assert (await survivor.tool_text("echo", {"message": "y" * 1000})).endswith("y" * 1000)
    await survivor.tool_text("echo", {"message": KEEP})


async def test_the_depth_limit_is_exact(survivor, settings):
    def ping_with(depth: int) -> bytes:  # the message and its params are the first two levels
        return b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":' + nested(depth - 2) + b"}}"

    response = await survivor.post(ping_with(settings.MCP_MAX_JSON_DEPTH))
    assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert_rpc_error(await survivor.post(ping_with(settings.MCP_MAX_JSON_DEPTH + 1)), 400, -32700)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"content-type": b"application/json; charset=utf-8"}, id="Content-Type with charset"),
        pytest.param({"content-type": b"Application/JSON"}, id="Content-Type upper-case"),
        pytest.param({"content-type": b" application/json ;"}, id="Content-Type padded"),
        pytest.param({"accept": DROP}, id="Accept missing"),
        pytest.param({"accept": b""}, id="Accept empty"),
        pytest.param({"accept": b"*/*"}, id="Accept */*"),
        pytest.param({"accept": b"application/json;q=0, text/event-stream"}, id="Accept SSE only by q"),
        pytest.param({"mcp-protocol-version": DROP}, id="MCP-Protocol-Version missing"),
        pytest.param({"mcp-protocol-version": b"2025-03-26"}, id="MCP-Protocol-Version another supported"),
        pytest.param({"origin": b"http://localhost:5173"}, id="Origin allowed"),
        pytest.param({"origin": b"http://127.0.0.1:3000"}, id="Origin the server's own"),
        pytest.param({"host": b"LOCALHOST:3000"}, id="Host upper-case"),
        pytest.param({"x-forwarded-host": b"evil.example"}, id="X-Forwarded-Host without a proxy"),
    ],
)
async def test_tolerated_header_variants_are_answered(survivor, changes):
    headers = dict(raw_headers(survivor, {}))
    headers[b"host"] = b"127.0.0.1:3000"
    for name, value in changes.items():
        if value is DROP:
            headers.pop(name.encode(), None)
        else:
            headers[name.encode()] = value
    answer = await raw_request("POST", list(headers.items()), PING)
    assert answer.status == 200, answer.text
    if answer.headers["content-type"].startswith("text/event-stream"):
        [message] = [event.json for event in parse_sse(answer.text) if event.data]
    else:
        message = orjson.loads(answer.body)
    assert message == {"jsonrpc": "2.0", "id": 1, "result": {}}


# --- Odd but legal values, and wrong types inside a well-formed request ------------------------


@pytest.mark.parametrize("request_id", [2**64 - 1, -(2**63), 0, "", "ü\u202e\x00", "x" * 10000])
async def test_extreme_but_valid_ids_come_back_exactly(survivor, request_id):
    response = await survivor.post(rpc("ping", id=request_id))
    assert response.status_code == 200
    assert response.json() == {"jsonrpc": "2.0", "id": request_id, "result": {}}


async def test_a_valid_surrogate_pair_is_echoed_as_the_character(survivor):
    response = await survivor.post(ECHO_OPEN + b'"\\ud83d\\ude00"}}}')
    [message] = messages_of(response)
    assert message["result"]["content"][0]["text"].endswith("\U0001f600")
    await survivor.tool_text("echo", {"message": KEEP})


async def test_null_params_are_treated_as_absent(survivor):
    response = await survivor.post(rpc("tools/list", None, id=9))
    assert response.status_code == 200
    assert response.json()["result"]["tools"]


async def test_null_arguments_are_an_empty_object(survivor):
    response = await survivor.post(call("replayLastEcho", None))
    [message] = messages_of(response)
    assert message["result"]["content"][0]["text"].endswith(f"] {KEEP}")
    assert not message["result"].get("isError")


@pytest.mark.parametrize("arguments", ["x", ["message", "hi"], 42, 1.5, True])
async def test_non_object_arguments_are_a_tool_error_result(survivor, arguments):
    response = await survivor.post(call("echo", arguments))
    assert response.status_code == 200
    [message] = messages_of(response)
    assert_valid(message, "CallToolResult")
    assert message["id"] == 7
    assert message["result"]["isError"] is True
    assert "arguments must be an object" in message["result"]["content"][0]["text"]


@pytest.mark.parametrize("name", [["echo"], 42, None, "", {"echo": 1}, True])
async def test_a_wrong_typed_tool_name_is_invalid_params(survivor, name):
    response = await survivor.post(call(name, {}))
    assert response.status_code == 200
    body = assert_valid(response.json())
    assert body["id"] == 7 and body["error"]["code"] == -32602
    assert_nothing_internal(response.text)


async def test_a_missing_tool_name_is_invalid_params(survivor):
    response = await survivor.post(rpc("tools/call", {"arguments": {}}, id=7))
    assert response.json()["error"]["code"] == -32602


@pytest.mark.parametrize("name", ["nope", "echo ", "ECHO", "../echo", "t" * 10240, "\x00", "é\u202e"])
async def test_an_unknown_tool_is_invalid_params_with_a_bounded_message(survivor, name):
    response = await survivor.post(call(name, {}))
    assert response.status_code == 200
    body = assert_valid(response.json())
    assert body["id"] == 7 and body["error"]["code"] == -32602
    assert len(body["error"]["message"]) < 300


@pytest.mark.parametrize(
    "method",
    ["no/such/method", "tools/call ", "TOOLS/LIST", "\x00", "\n\r", "<script>", "é\u202e🙂", "m" * 10240],
)
async def test_an_unknown_method_is_method_not_found_with_a_bounded_message(survivor, method):
    response = await survivor.post(rpc(method, {}, id="m"))
    assert response.status_code == 200
    body = assert_valid(response.json())
    assert body["id"] == "m" and body["error"]["code"] == -32601
    assert len(body["error"]["message"]) < 300


@pytest.mark.parametrize("method", ["notifications/whatever", "x" * 10240, "\x00"])
async def test_an_unknown_notification_is_accepted_and_ignored(survivor, method):
    response = await survivor.post(rpc(method, {}, id=DROP))
    assert response.status_code == 202 and response.content == b""


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": "never-sent", "result": {}},
        {"jsonrpc": "2.0", "id": 424242, "result": {"anything": [1, 2]}},
        {"jsonrpc": "2.0", "id": "never-sent", "error": {"code": -1, "message": "no"}},
        {"jsonrpc": "2.0", "id": "x", "error": {}},
    ],
)
async def test_a_client_response_to_an_unknown_request_gets_202(survivor, message):
    response = await survivor.post(orjson.dumps(message))
    assert response.status_code == 202 and response.content == b""


@pytest.mark.parametrize(
    "params",
    [{"requestId": 999}, {"requestId": "nope", "reason": "x"}, {"requestId": {"a": 1}}, {"reason": 5}, {}],
)
async def test_cancelling_an_unknown_request_gets_202(survivor, params):
    response = await survivor.post(rpc("notifications/cancelled", params, id=DROP))
    assert response.status_code == 202 and response.content == b""


@pytest.mark.parametrize(
    "params",
    [
        {"protocolVersion": "2025-11-25", "capabilities": "x", "clientInfo": {"name": "n", "version": "1"}},
        {"protocolVersion": "2025-11-25", "capabilities": [], "clientInfo": "me"},
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": 5},
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": ["n", "1"]},
        {"protocolVersion": "2025-11-25", "capabilities": 0, "clientInfo": None},
    ],
)
async def test_initialize_with_wrong_typed_client_info_leaks_no_session(survivor, params):
    headers = raw_headers(survivor, NO_SESSION_HEADERS)
    response = await survivor.http.post("/mcp", content=rpc("initialize", params, id=1), headers=headers)
    assert response.status_code == 200
    body = assert_valid(response.json())
    assert body["id"] == 1 and body["error"]["code"] == -32602
    assert "mcp-session-id" not in response.headers
    assert (await get_store().stats()).active == 1
    # The seed's B8: nobody's sessionInfo is poisoned afterwards.
    assert "Total Active Sessions: 1" in await survivor.tool_text("sessionInfo", {})


async def test_initialize_with_null_client_info_is_a_session_of_an_unknown_client(survivor, http):
    # null is treated as absent (like null params); the session works and poisons nothing.
    params = {"protocolVersion": "2025-11-25", "capabilities": None, "clientInfo": None}
    headers = raw_headers(survivor, NO_SESSION_HEADERS)
    response = await survivor.http.post("/mcp", content=rpc("initialize", params, id=1), headers=headers)
    assert response.status_code == 200 and response.json()["result"]["protocolVersion"] == "2025-11-25"
    other = McpClient(http, session_id=response.headers["mcp-session-id"])
    assert "Client: unknown" in await other.tool_text("sessionInfo", {})
    assert "Total Active Sessions: 2" in await survivor.tool_text("sessionInfo", {})


# --- Other HTTP methods, and GET -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "TRACE", "PROPFIND"])
async def test_other_http_methods_get_405_with_allow(survivor, method):
    response = await survivor.http.request(method, "/mcp", content=PING, headers=survivor.headers())
    assert_rpc_error(response, 405, -32600)
    assert response.headers["allow"] == ALLOW


async def test_head_gets_405_with_allow_and_no_body(survivor):
    response = await survivor.http.head("/mcp", headers=survivor.headers())
    assert response.status_code == 405
    assert response.headers["allow"] == ALLOW
    assert response.content == b""


async def test_options_with_a_tool_call_body_runs_nothing(survivor):
    # Seed C13: an OPTIONS carrying a JSON-RPC body executed it.
    body = call("echo", {"message": "via OPTIONS"})
    response = await survivor.http.request("OPTIONS", "/mcp", content=body, headers=survivor.headers())
    assert response.status_code == 204 and response.content == b""
    assert response.headers["allow"] == ALLOW


GARBAGE_EVENT_IDS = [
    "garbage",
    "",
    "-1",
    "g--1",
    "r-1",
    "g-99999999999999999999999",
    "r99999999999999999999-1",
    "g-1-2-3",
    "\x01\x7f",
    "x" * 8192,
]


@pytest.mark.parametrize("event_id", GARBAGE_EVENT_IDS)
async def test_get_with_a_garbage_last_event_id_on_an_unknown_session_is_404(survivor, event_id):
    headers = {"Accept": "text/event-stream", "Mcp-Session-Id": "f" * 32, "Last-Event-ID": event_id}
    assert_rpc_error(await survivor.http.get("/mcp", headers=headers), 404, -32001)


def get_stream_headers(client: McpClient, event_id: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"host", b"127.0.0.1:3000"),
        (b"accept", b"text/event-stream"),
        (b"mcp-session-id", client.session_id.encode()),
        (b"mcp-protocol-version", client.protocol.encode()),
        (b"last-event-id", event_id),
    ]


@pytest.mark.parametrize("event_id", [value.encode("latin-1") for value in GARBAGE_EVENT_IDS])
async def test_get_with_a_garbage_last_event_id_opens_a_fresh_stream(survivor, event_id):
    answer = await raw_request("GET", get_stream_headers(survivor, event_id), hang_up_after_first_chunk=True)
    assert answer.status == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    # A fresh 2025-11-25 stream starts with a priming event (an id, no data).
    [priming, *_] = parse_sse(answer.text)
    assert priming.id and priming.data == ""


async def test_clients_that_hang_up_do_not_use_up_the_stream_limit(survivor, settings):
    for _ in range(settings.MCP_MAX_STREAMS_PER_SESSION * 3):
        answer = await raw_request(
            "GET", get_stream_headers(survivor, b"garbage"), hang_up_after_first_chunk=True
        )
        assert answer.status == 200, answer.text


# Regression (500 at dbfd566): parse_event_id checked seq.isdigit(), which accepts the Latin-1
# superscripts; int() then raised ValueError.
@pytest.mark.parametrize("event_id", [b"r1-\xb2", b"g-\xb9", b"g-1\xb3"])
async def test_get_with_a_superscript_digit_in_last_event_id_is_not_a_500(survivor, event_id):
    answer = await raw_request("GET", get_stream_headers(survivor, event_id), hang_up_after_first_chunk=True)
    assert answer.status == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")


# Regression (-32603 at dbfd566): decode_cursor checked number.isdigit(), which accepts '²'.
@pytest.mark.parametrize("method", ["tools/list", "resources/list", "prompts/list"])
async def test_a_cursor_with_a_superscript_digit_is_invalid_params(survivor, method):
    cursor = base64.urlsafe_b64encode("o:²".encode()).decode().rstrip("=")
    response = await survivor.post(rpc(method, {"cursor": cursor}, id=3))
    assert response.json()["error"]["code"] == -32602


@pytest.mark.parametrize("cursor", ["", "garbage", "bzotMQ", "bzox" * 16 + "x", 5, ["o:1"], {"o": 1}])
async def test_a_garbage_cursor_is_invalid_params(survivor, cursor):
    response = await survivor.post(rpc("tools/list", {"cursor": cursor}, id=3))
    assert response.status_code == 200
    body = assert_valid(response.json())
    assert body["id"] == 3 and body["error"]["code"] == -32602


# --- Sessions opened fast ----------------------------------------------------------------------


INIT = rpc(
    "initialize",
    {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "flood", "version": "1"}},
)


async def open_sessions(http: httpx.AsyncClient, attempts: int) -> tuple[list[int], list[httpx.Response]]:
    """Initialize ``attempts`` times; the statuses, and the first few refusals."""
    statuses: list[int] = []
    refusals: list[httpx.Response] = []
    headers = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH}
    for _ in range(attempts):
        response = await http.post("/mcp", content=INIT, headers=headers)
        statuses.append(response.status_code)
        if response.status_code != 200 and len(refusals) < 5:
            refusals.append(response)
    return statuses, refusals


def traced(since: int) -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - since


async def test_ten_thousand_initializes_stop_at_max_sessions_with_bounded_memory(survivor, settings, caplog):
    settings.MCP_MAX_SESSIONS = 2000
    # pytest keeps every log record, and Django's record of each 503 holds its request: that would
    # be the test's memory, not the server's. (In production each 503 is one ERROR line on stderr.)
    caplog.set_level(logging.CRITICAL, logger="django.request")
    caplog.set_level(logging.CRITICAL, logger="mcp")
    room = settings.MCP_MAX_SESSIONS - 1  # the survivor holds one
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        statuses, _ = await open_sessions(survivor.http, room)
        per_session = traced(start) / room
        tracemalloc.stop()
        more, refusals = await open_sessions(survivor.http, 10_000 - room - 1000)
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        last, _ = await open_sessions(survivor.http, 1000)
        refused_growth = traced(start)
    finally:
        tracemalloc.stop()
    statuses += more + last
    assert len(statuses) == 10_000
    assert statuses[:room] == [200] * room
    assert statuses[room:] == [503] * (10_000 - room)
    for response in refusals:
        assert_rpc_error(response, 503, -32600)
        assert "mcp-session-id" not in response.headers
    assert (await get_store().stats()).active == settings.MCP_MAX_SESSIONS
    assert per_session < 20 * 1024, f"{per_session:.0f} bytes per session"
    assert refused_growth < 1000 * 1024, f"1000 refusals kept {refused_growth} bytes"


async def test_the_per_client_session_limit_refuses_one_address_not_another(survivor, settings):
    settings.MCP_MAX_SESSIONS_PER_CLIENT = 50
    statuses, refusals = await open_sessions(survivor.http, 60)
    assert statuses == [200] * 49 + [503] * 11  # the survivor is the 50th
    body = assert_rpc_error(refusals[0], 503, -32600)
    assert "MCP_MAX_SESSIONS_PER_CLIENT" in body["error"]["message"]

    transport = httpx.ASGITransport(app=application, client=("127.0.0.2", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as other:
        other_statuses, _ = await open_sessions(other, 3)
    assert other_statuses == [200] * 3
    # Ending one of its sessions gives the first address room again.
    sessions = await get_store().list(limit=1000)
    mine = next(s.id for s in sessions if s.client_addr == "127.0.0.1" and s.id != survivor.session_id)
    deleted = await survivor.http.delete("/mcp", headers={"Mcp-Session-Id": mine})
    assert deleted.status_code == 204
    again, _ = await open_sessions(survivor.http, 2)
    assert again == [200, 503]


# --- Malformed JWTs shown by the debug tools ------------------------------------------------------


def b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


SIGNATURE = b64(b"\x01this signature must never be shown in full\xfe")
HEADER = b64({"alg": "HS256", "typ": "JWT"})


def jwt_of(header: str, payload: str) -> str:
    return f"{header}.{payload}.{SIGNATURE}"


TOKENS = {
    "one part": "abcdefghijklmnop",
    "two parts": f"{HEADER}.{b64({'sub': 'x'})}",
    "four parts": f"{jwt_of(HEADER, b64({'sub': 'x'}))}.extra",
    "all parts empty": "..",
    "empty header": f".{b64({'sub': 'x'})}.{SIGNATURE}",
    "empty payload": f"{HEADER}..{SIGNATURE}",
    "empty signature": f"{HEADER}.{b64({'sub': 'x'})}.",
    "not base64": f"!!!.@@@.{SIGNATURE}",
    "base64 padding in the middle": f"e=yJ.e30.{SIGNATURE}",
    "bad base64 length": jwt_of("a", "b"),
    "header not JSON": jwt_of(b64(b"{not json"), b64({})),
    "header a list": jwt_of(b64([1, 2]), b64({})),
    "header a number": jwt_of(b64(5), b64({})),
    "header a string": jwt_of(b64("HS256"), b64({})),
    "header with object alg": jwt_of(b64({"alg": {"x": 1}, "typ": [1], "kid": None}), b64({})),
    "payload a list": jwt_of(HEADER, b64(["sub", "x"])),
    "payload a number": jwt_of(b64({"alg": "none"}), "NQ"),
    "payload a string": jwt_of(HEADER, b64("hello")),
    "payload null": jwt_of(HEADER, b64(None)),
    "payload not UTF-8": jwt_of(HEADER, b64(b'{"sub":"\xff"}')),
    "iat and exp strings": jwt_of(HEADER, b64({"iat": "yesterday", "exp": "never", "nbf": ""})),
    "iat and exp huge": jwt_of(HEADER, b64({"iat": 10**30, "exp": 2**63, "nbf": 1e308})),
    "iat and exp negative": jwt_of(HEADER, b64({"iat": -(10**30), "exp": -1, "nbf": -1e308})),
    "iat and exp NaN-ish": jwt_of(HEADER, b64(b'{"iat": NaN, "exp": Infinity, "nbf": -Infinity}')),
    "iat and exp bools and objects": jwt_of(HEADER, b64({"iat": True, "exp": {"a": 1}, "nbf": [1]})),
    "deeply nested payload": jwt_of(HEADER, b64(b'{"x":' + nested(100_000) + b"}")),
    "hostile names": jwt_of(HEADER, b64({"name": "<script>\x1b[2J\u202e", "sub": "\x00" * 50})),
    "secrets in claims": jwt_of(HEADER, b64({"password": "hunter2", "note": "token=abcdefghijklmnop"})),
    "100 KB token": jwt_of(HEADER, b64({"sub": "a" * 75_000})),
    "100 KB signature": f"{HEADER}.{b64({'sub': 'x'})}.{'S' * 100_000}",
}
JWT_TOOLS = ["bearerDecode", "authContext", "whoIStheGOAT", "printHeader"]


@pytest.mark.parametrize("tool", JWT_TOOLS)
@pytest.mark.parametrize("token", TOKENS.values(), ids=TOKENS.keys())
async def test_a_malformed_bearer_token_is_described_never_crashes_never_leaks(survivor, tool, token):
    arguments = {"includeRaw": True} if tool == "bearerDecode" else {}
    response = await survivor.request(
        "tools/call", {"name": tool, "arguments": arguments}, Authorization=f"Bearer {token}"
    )
    assert response.status_code == 200, response.text[:500]
    [message] = messages_of(response)
    assert "result" in message, message
    assert_valid(message, "CallToolResult")
    text = "\n".join(block["text"] for block in message["result"]["content"])
    assert text.strip()
    assert_nothing_internal(text)
    parts = token.split(".")
    for secret in [token, *parts[2:]]:
        if len(secret) > 8:
            assert secret not in response.text, f"{secret[:20]}... shown in full"


# Regression (seed B9, still -32603 at dbfd566): numeric_date called math.isfinite() on an int
# claim, which raises OverflowError past float range.
@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
async def test_bearer_decode_describes_a_400_digit_date_claim(survivor, claim):
    token = jwt_of(HEADER, b64({claim: 10**400, "sub": "x"}))
    response = await survivor.request(
        "tools/call", {"name": "bearerDecode", "arguments": {}}, Authorization=f"Bearer {token}"
    )
    [message] = messages_of(response)
    assert "result" in message, message
    assert SIGNATURE not in response.text


@pytest.mark.parametrize("tool", ["bearerDecode", "authContext", "whoIStheGOAT"])
@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer  " + "x" * 50, "Token abc", "\x7f"],
)
async def test_an_odd_authorization_header_is_a_normal_answer(survivor, tool, authorization):
    response = await survivor.request(
        "tools/call", {"name": tool, "arguments": {}}, Authorization=authorization
    )
    assert response.status_code == 200
    [message] = messages_of(response)
    assert "result" in message and not message["result"].get("isError")
    assert "dXNlcjpwYXNz" not in response.text


async def test_a_non_ascii_bearer_token_is_a_normal_answer(survivor):
    headers = [*raw_headers(survivor, {}), (b"authorization", b"Bearer \xe9\xff.\xfe.\xfd")]
    response = await survivor.http.post("/mcp", content=call("bearerDecode", {}), headers=headers)
    [message] = messages_of(response)
    assert "non-ASCII" in message["result"]["content"][0]["text"]
