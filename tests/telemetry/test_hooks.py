"""Every path a message takes is traced once, and client authors see the verdict (in process).

The application runs in process (httpx's ASGI transport); telemetry, when on, exports to a
real OTLP/HTTP receiver. With it off, printHeader, traceInfo and the traffic record still
tell a client author what their client sent.
"""

from __future__ import annotations

from mcp import telemetry
from mcp.store import get_store
from mcp.traffic import record as traffic
from tests.support.client import messages_of
from tests.support.modern_client import modern_post, modern_result, request_meta

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{PARENT}-01"


def spans_named(receiver, name, session_id=None):
    telemetry.flush()
    return [
        span
        for span in receiver.spans
        if span.name == name and (session_id is None or span.attributes.get("mcp.session.id") == session_id)
    ]


# --- Off: the verdict without telemetry ------------------------------------------------------------


async def test_print_header_tells_where_the_trace_context_was_and_that_tracing_is_off(session):
    params = {"name": "printHeader", "arguments": {}, "_meta": {"traceparent": TRACEPARENT}}
    answer = await session.rpc("tools/call", params)
    text = answer["result"]["content"][0]["text"]
    section = text[text.index("TRACE CONTEXT:") :]
    assert "Carried: in params._meta (traceparent)" in section
    assert f"✅ traceparent from _meta: trace {TRACE}, parent {PARENT}, sampled" in section
    assert "Server tracing: off" in section


async def test_print_header_explains_a_malformed_traceparent_in_headers_only(session):
    text = await session.tool_text("printHeader", {}, traceparent=TRACEPARENT.upper())
    section = text[text.index("TRACE CONTEXT:") :]
    assert "Carried: only in HTTP headers (traceparent)" in section
    assert "❌ traceparent from http: traceparent must be lower-case hex" in section
    assert "put traceparent in params._meta too" in section


async def test_trace_info_is_structured(session):
    params = {"name": "traceInfo", "arguments": {}, "_meta": {"traceparent": TRACEPARENT}}
    result = (await session.rpc("tools/call", params))["result"]
    client = result["structuredContent"]["client"]
    assert (client["carried"], client["well_formed"], client["client_trace_id"]) == ("_meta", True, TRACE)
    assert result["structuredContent"]["server"] == {"tracing": "off"}


async def test_the_traffic_record_marks_trace_context_only_when_there_is_some(session):
    await session.tool_text("echo", {"message": "plain"})
    await session.rpc(
        "tools/call",
        {"name": "echo", "arguments": {"message": "traced"}, "_meta": {"traceparent": TRACEPARENT}},
    )
    entries = await traffic.recent(get_store(), session.session_id)
    plain, traced = entries[-2], entries[-1]
    assert "trace" not in plain
    assert traced["trace"]["carried"] == "_meta"
    assert traced["trace"]["client_trace_id"] == TRACE
    assert traced["trace"]["server_trace_id"] is None


# --- On: one span per message, whatever carried it ---------------------------------------------------


async def test_each_message_of_a_batch_is_a_span(mcp_client, receiver):
    await mcp_client.initialize(version="2025-03-26")
    batch = [
        {"jsonrpc": "2.0", "id": 10, "method": "ping"},
        {
            "jsonrpc": "2.0",
            "id": 11,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": "b"}},
        },
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}},
        {"jsonrpc": "2.0", "id": 12, "method": "initialize", "params": {}},
    ]
    response = await mcp_client.post(batch)
    assert response.status_code == 200
    assert [m["id"] for m in messages_of(response)] == [10, 11, 12]
    sid = mcp_client.session_id
    (ping,) = spans_named(receiver, "ping", sid)
    (echo,) = spans_named(receiver, "tools/call echo", sid)
    (progress,) = spans_named(receiver, "notifications/progress", sid)
    refused = [
        s for s in spans_named(receiver, "initialize", sid) if s.attributes.get("jsonrpc.request.id") == "12"
    ]
    assert ping.attributes["mcp.protocol.version"] == "2025-03-26"
    assert echo.attributes["jsonrpc.request.id"] == "11"
    assert "jsonrpc.request.id" not in progress.attributes
    assert refused[0].attributes["error.type"] == "-32600"


async def test_initialize_names_the_session_it_created(mcp_client, receiver):
    await mcp_client.initialize()
    (span,) = spans_named(receiver, "initialize", mcp_client.session_id)
    assert span.attributes["mcp.protocol.version"] == "2025-11-25"
    assert span.status == "UNSET"


async def test_trace_info_shows_the_span_the_server_used(session, receiver):
    params = {"name": "traceInfo", "arguments": {}, "_meta": {"traceparent": TRACEPARENT}}
    server = (await session.rpc("tools/call", params))["result"]["structuredContent"]["server"]
    assert server["tracing"] == "on"
    assert (server["trace_id"], server["parent_source"], server["sampled"]) == (TRACE, "_meta", True)
    (span,) = spans_named(receiver, "tools/call traceInfo", session.session_id)
    assert span.span_id == server["span_id"]
    entries = await traffic.recent(get_store(), session.session_id)
    assert entries[-1]["trace"]["server_trace_id"] == TRACE


async def test_a_refused_stateless_request_is_an_error_span(http, receiver):
    params = {"name": "echo", "arguments": {"message": "x"}}
    response = await modern_post(
        http, "tools/call", params, request_id="refused-1", headers={"Mcp-Method": "tools/list"}
    )
    assert response.status_code == 400
    (span,) = [
        s
        for s in spans_named(receiver, "tools/call echo")
        if s.attributes.get("jsonrpc.request.id") == "refused-1"
    ]
    assert span.attributes["error.type"] == "-32020"
    assert span.attributes["mcp.protocol.version"] == "2026-07-28"


async def test_a_stateless_input_request_carries_the_round_in_meta(http, receiver):
    params = {"name": "requestSampling", "arguments": {"prompt": "hi"}}
    meta = {**request_meta(), "traceparent": TRACEPARENT}
    first = modern_result(await modern_post(http, "tools/call", params, meta=meta), "tools/call")
    ((key, asked),) = first["inputRequests"].items()
    assert asked["params"]["_meta"]["traceparent"].startswith(f"00-{TRACE}-")
    telemetry.flush()
    (round_span,) = spans_named(receiver, "tools/call requestSampling")
    (ask_span,) = spans_named(receiver, "sampling/createMessage")
    assert (round_span.trace_id, round_span.parent_span_id) == (TRACE, PARENT)
    assert ask_span.parent_span_id == round_span.span_id
    # The retry carries no trace context: it joins the round's trace through the state.
    answer = {"role": "assistant", "content": {"type": "text", "text": "yo"}, "model": "m"}
    retry = {**params, "requestState": first["requestState"], "inputResponses": {key: answer}}
    modern_result(await modern_post(http, "tools/call", retry), "tools/call")
    spans = spans_named(receiver, "tools/call requestSampling")
    retried = next(s for s in spans if s.span_id != round_span.span_id)
    assert (retried.trace_id, retried.parent_span_id) == (TRACE, round_span.span_id)


async def test_unknown_methods_and_tools_are_bounded_in_the_histogram(session, receiver):
    await session.rpc("made/up/method")
    await session.rpc("tools/call", {"name": "noSuchTool", "arguments": {}})
    telemetry.flush()
    points = receiver.wait_for_points("mcp.server.operation.duration")
    methods = {p.attributes["mcp.method.name"] for p in points}
    assert "made/up/method" not in methods
    assert "_OTHER" in methods
    assert not any(p.attributes.get("gen_ai.tool.name") == "noSuchTool" for p in points)
    # The spans keep what was received.
    assert spans_named(receiver, "made/up/method", session.session_id)
    assert spans_named(receiver, "tools/call noSuchTool", session.session_id)
