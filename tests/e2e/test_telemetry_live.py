"""OpenTelemetry end to end: a real server process exporting to a real OTLP/HTTP receiver.

The server is a uvicorn process configured only by the standard variables
(OTEL_EXPORTER_OTLP_ENDPOINT pointing at ``tests/support/otlp_receiver.py``, short export
delays); clients are raw HTTP (httpx) and, for one trace across client and server, the
official Python SDK 2.x out of process with OpenTelemetry installed. What is asserted is what
a collector receives: span names, kinds, attributes, trace ids and parents, the
operation-duration histogram.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.conftest import DEFAULT_ENV
from tests.e2e.deps import clean_env
from tests.e2e.live import HTTP_TIMEOUT, LiveServer, open_stream, start_server
from tests.support.client import ACCEPT_BOTH, McpClient
from tests.support.modern_client import modern_post, modern_result, request_meta
from tests.support.otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.e2e

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
TRACED_CLIENT = Path(__file__).parent / "clients" / "python-modern" / "traced.py"
CLIENT_TIMEOUT = 90.0


def otel_env(receiver: OtlpReceiver) -> dict[str, str]:
    return {
        **DEFAULT_ENV,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_SERVICE_NAME": "echo-e2e",
        # Export within a fraction of a second, so a test waits little.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_METRIC_EXPORT_INTERVAL": "300",
    }


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running
    assert not running.rejected


@pytest.fixture(scope="module")
def traced_server(receiver: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("traced"), otel_env(receiver))
    yield server
    server.stop()


@pytest.fixture
async def client(traced_server: LiveServer) -> AsyncIterator[McpClient]:
    async with httpx.AsyncClient(base_url=traced_server.url, timeout=HTTP_TIMEOUT) as http:
        yield McpClient(http)


async def test_a_session_tool_call_is_a_server_span_by_the_conventions(client, receiver):
    await client.initialize()
    assert (await client.tool_text("echo", {"message": "traced"})).endswith("traced")
    span = receiver.wait_for_span("tools/call echo", mcp__session__id=client.session_id)
    assert span.kind == "SERVER"
    attributes = span.attributes
    assert attributes["mcp.method.name"] == "tools/call"
    assert attributes["gen_ai.tool.name"] == "echo"
    assert attributes["gen_ai.operation.name"] == "execute_tool"
    assert attributes["mcp.protocol.version"] == "2025-11-25"
    assert attributes["jsonrpc.request.id"] == "2"
    assert attributes["network.transport"] == "tcp"
    assert attributes["client.address"] == "127.0.0.1"
    assert span.resource["service.name"] == "echo-e2e"
    initialize = receiver.wait_for_span("initialize", mcp__session__id=client.session_id)
    assert initialize.attributes["jsonrpc.request.id"] == "1"
    receiver.wait_for_span("notifications/initialized", mcp__session__id=client.session_id)


async def test_meta_traceparent_makes_the_server_span_its_child(client, receiver):
    await client.initialize()
    meta = {"traceparent": TRACEPARENT, "tracestate": "vendor=1"}
    response = await client.request(
        "tools/call", {"name": "echo", "arguments": {"message": "m"}, "_meta": meta}
    )
    assert response.status_code == 200
    (span,) = receiver.wait_for_spans(
        lambda s: (
            s.name == "tools/call echo" and s.trace_id == CLIENT_TRACE and s.parent_span_id == CLIENT_SPAN
        )
    )
    assert span.attributes["mcp.session.id"] == client.session_id


async def test_an_error_carries_the_json_rpc_code(client, receiver):
    await client.initialize()
    answer = await client.rpc("no/such/method")
    assert answer["error"]["code"] == -32601
    span = receiver.wait_for_span("no/such/method", mcp__session__id=client.session_id)
    assert span.attributes["error.type"] == "-32601"
    assert span.attributes["rpc.response.status_code"] == "-32601"
    assert (span.status, span.status_message) == ("ERROR", answer["error"]["message"])


async def test_a_stateless_call_is_a_span_with_its_protocol_version(traced_server, receiver):
    async with httpx.AsyncClient(base_url=traced_server.url, timeout=HTTP_TIMEOUT) as http:
        marker = secrets.token_hex(4)
        params = {"name": "echo", "arguments": {"message": marker}}
        meta = {**request_meta(), "traceparent": TRACEPARENT}
        result = modern_result(
            await modern_post(http, "tools/call", params, meta=meta, request_id=marker), "x"
        )
        assert marker in result["content"][0]["text"]
    span = receiver.wait_for_span("tools/call echo", jsonrpc__request__id=marker)
    assert span.attributes["mcp.protocol.version"] == "2026-07-28"
    assert "mcp.session.id" not in span.attributes
    assert (span.trace_id, span.parent_span_id) == (CLIENT_TRACE, CLIENT_SPAN)


async def test_a_sampling_round_trip_is_a_child_client_span_injected_in_meta(client, receiver):
    await client.initialize(capabilities={"sampling": {}})
    call_id = 77
    body = {
        "jsonrpc": "2.0",
        "id": call_id,
        "method": "tools/call",
        "params": {
            "name": "requestSampling",
            "arguments": {"prompt": "2+2?", "timeout": 20},
            "_meta": {"traceparent": TRACEPARENT},
        },
    }
    headers = client.headers(Accept=ACCEPT_BOTH)
    async with open_stream(client.http, "POST", "/mcp", content=orjson.dumps(body), headers=headers) as (
        response,
        stream,
    ):
        assert response.status_code == 200
        request = await stream.next_message(10)
        assert request["method"] == "sampling/createMessage"
        sent = request["params"]["_meta"]["traceparent"]
        answer = {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}
        posted = await client.post({"jsonrpc": "2.0", "id": request["id"], "result": answer})
        assert posted.status_code == 202
        final = await stream.next_message(10)
        assert final["id"] == call_id
    server = receiver.wait_for_span("tools/call requestSampling", mcp__session__id=client.session_id)
    child = receiver.wait_for_span("sampling/createMessage", mcp__session__id=client.session_id)
    assert child.kind == "CLIENT"
    assert (child.trace_id, child.parent_span_id) == (CLIENT_TRACE, server.span_id)
    assert server.parent_span_id == CLIENT_SPAN
    assert sent == f"00-{CLIENT_TRACE}-{child.span_id}-01"


async def test_legacy_messages_are_spans_with_the_session(traced_server, receiver):
    async with (
        httpx.AsyncClient(base_url=traced_server.url, timeout=HTTP_TIMEOUT) as http,
        open_stream(http, "GET", "/sse", headers={"Accept": "text/event-stream"}) as (response, stream),
    ):
        assert response.status_code == 200
        endpoint = await stream.next(5)
        while endpoint.event != "endpoint":
            endpoint = await stream.next(5)
        url = endpoint.data
        session_id = url.split("sessionId=")[1]
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2024-11-05",
                "capabilities": {},
                "clientInfo": {"name": "old", "version": "1"},
            },
        }
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {
                "name": "echo",
                "arguments": {"message": "legacy"},
                "_meta": {"traceparent": TRACEPARENT},
            },
        }
        for message in (init, call):
            posted = await http.post(url, json=message)
            assert posted.status_code == 202
            answer = await stream.next_message(5)
            assert answer["id"] == message["id"]
    initialize = receiver.wait_for_span("initialize", mcp__session__id=session_id)
    assert initialize.attributes["mcp.protocol.version"] == "2024-11-05"
    echo = receiver.wait_for_span("tools/call echo", mcp__session__id=session_id)
    assert (echo.trace_id, echo.parent_span_id) == (CLIENT_TRACE, CLIENT_SPAN)
    assert echo.attributes["mcp.protocol.version"] == "2024-11-05"
    # Closing the stream ends the legacy session: its duration is recorded.
    receiver.wait_for_points(
        "mcp.server.session.duration", lambda p: p.attributes.get("mcp.protocol.version") == "2024-11-05"
    )


async def test_the_operation_duration_histogram_arrives(client, receiver):
    await client.initialize()
    await client.tool_text("echo", {"message": "measured"})
    points = receiver.wait_for_points(
        "mcp.server.operation.duration", lambda p: p.attributes.get("mcp.method.name") == "tools/call"
    )
    assert points[-1].unit == "s"
    assert points[-1].count >= 1
    assert points[-1].bounds[:3] == [0.01, 0.02, 0.05]


async def test_deleting_a_session_records_its_duration(client, receiver):
    await client.initialize()
    deleted = await client.http.delete("/mcp", headers=client.headers())
    assert deleted.status_code == 204
    (point, *_) = receiver.wait_for_points(
        "mcp.server.session.duration", lambda p: p.attributes.get("mcp.protocol.version") == "2025-11-25"
    )
    assert point.unit == "s"
    assert point.count >= 1
    assert point.bounds[-1] == 300


def test_the_python_sdk_client_and_the_server_share_one_trace(traced_server, receiver, modern_python_sdk):
    env = {**clean_env(), "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    done = subprocess.run(
        [str(modern_python_sdk), str(TRACED_CLIENT), traced_server.mcp_url, "2026-07-28"],
        cwd=TRACED_CLIENT.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
        check=False,
    )
    steps = {
        step["step"]: step for step in (json.loads(line) for line in done.stdout.splitlines() if line.strip())
    }
    assert done.returncode == 0, (done.stdout, done.stderr[-3000:], traced_server.log())
    assert "traced hello" in steps["echo"]["text"]
    trace_id = steps["done"]["trace_id"]
    in_trace = receiver.wait_for_spans(
        lambda s: s.trace_id == trace_id and s.name == "tools/call requestSampling", count=2
    )
    spans = {s.span_id: s for s in receiver.spans if s.trace_id == trace_id}
    server_echo = next(s for s in spans.values() if s.name == "tools/call echo" and s.kind == "SERVER")
    assert server_echo.resource["service.name"] == "echo-e2e"
    parent = spans[server_echo.parent_span_id]
    assert parent.kind == "CLIENT"
    assert parent.resource["service.name"] == "sdk-client"
    assert parent.parent_span_id == steps["done"]["span_id"]  # the client's own "agent turn"
    # The sampling round trip (input_required, then the SDK's retry) stays in the trace too,
    # with the server's input request as a CLIENT span of the first round.
    assert {s.resource["service.name"] for s in in_trace} == {"echo-e2e"}
    asked = next(s for s in spans.values() if s.name == "sampling/createMessage")
    assert asked.kind == "CLIENT"
    assert asked.parent_span_id in {s.span_id for s in in_trace}


async def test_a_round_started_on_a_and_finished_on_b_is_one_trace(tmp_path, receiver, redis_url):
    env = {**otel_env(receiver), "REDIS_URL": redis_url, "MCP_REDIS_PREFIX": f"ot{secrets.token_hex(4)}"}
    node_a = start_server(tmp_path / "a", env)
    node_b = start_server(tmp_path / "b", env)
    try:
        async with (
            httpx.AsyncClient(base_url=node_a.url, timeout=HTTP_TIMEOUT) as http_a,
            httpx.AsyncClient(base_url=node_b.url, timeout=HTTP_TIMEOUT) as http_b,
        ):
            params = {"name": "requestSampling", "arguments": {"prompt": "2+2?"}}
            first = modern_result(await modern_post(http_a, "tools/call", params), "tools/call")
            ((key, asked),) = first["inputRequests"].items()
            injected = asked["params"]["_meta"]["traceparent"]
            answer = {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m"}
            retry = {**params, "requestState": first["requestState"], "inputResponses": {key: answer}}
            done = modern_result(await modern_post(http_b, "tools/call", retry), "tools/call")
            assert "4" in done["content"][0]["text"]
    finally:
        node_a.stop()
        node_b.stop()
    trace_id = injected.split("-")[1]
    spans = receiver.wait_for_spans(
        lambda s: s.trace_id == trace_id and s.name == "tools/call requestSampling", count=2
    )
    first_span = next(s for s in spans if s.parent_span_id == "")
    retried = next(s for s in spans if s.parent_span_id)
    # The retry on B is a child of the round's span on A (the state carried it).
    assert retried.parent_span_id == first_span.span_id
    assert retried.attributes["mcp.protocol.version"] == "2026-07-28"
    (asked_span,) = receiver.wait_for_spans(
        lambda s: s.trace_id == trace_id and s.name == "sampling/createMessage"
    )
    assert asked_span.kind == "CLIENT"
    assert asked_span.parent_span_id == first_span.span_id
    assert injected.startswith(f"00-{trace_id}-{asked_span.span_id}-")
