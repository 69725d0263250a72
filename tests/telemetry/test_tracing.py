"""Spans and histograms by the MCP conventions, as a real OTLP/HTTP receiver decodes them."""

from __future__ import annotations

from mcp import telemetry

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
HTTP_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def received(method="tools/call", params=None, **kwargs):
    arguments = {
        "request_id": 7,
        "session_id": "abc123",
        "protocol_version": "2025-11-25",
        "headers": {},
        **kwargs,
    }
    return telemetry.received(method, params if params is not None else {"name": "echo"}, **arguments)


def test_a_tool_call_span_is_named_and_attributed_by_the_conventions(receiver):
    operation = received(client=("127.0.0.1", 51000))
    operation.finish({"jsonrpc": "2.0", "id": 7, "result": {"content": []}})
    telemetry.flush()
    span = receiver.wait_for_span("tools/call echo")
    assert span.kind == "SERVER"
    assert span.attributes == {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "echo",
        "gen_ai.operation.name": "execute_tool",
        "jsonrpc.request.id": "7",
        "mcp.session.id": "abc123",
        "mcp.protocol.version": "2025-11-25",
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "client.address": "127.0.0.1",
        "client.port": 51000,
    }
    assert span.status == "UNSET"
    assert span.parent_span_id == ""
    assert span.resource["service.name"] == "mcp-echo-stateful-server"


def test_meta_traceparent_is_the_parent(receiver):
    operation = received(params={"name": "echo", "_meta": {"traceparent": TRACEPARENT}})
    operation.finish({"jsonrpc": "2.0", "id": 7, "result": {}})
    telemetry.flush()
    span = receiver.wait_for_span("tools/call echo")
    assert (span.trace_id, span.parent_span_id) == (CLIENT_TRACE, CLIENT_SPAN)
    assert operation.describe()["trace_id"] == CLIENT_TRACE
    assert operation.describe()["parent_source"] == "_meta"


def test_http_traceparent_is_the_parent_without_meta_and_a_link_with_it(receiver):
    received(method="ping", params={}, headers={"traceparent": HTTP_TRACEPARENT}).finish({"result": {}})
    both = received(
        method="tools/list",
        params={"_meta": {"traceparent": TRACEPARENT}},
        headers={"traceparent": HTTP_TRACEPARENT},
    )
    both.finish({"result": {}})
    telemetry.flush()
    ping = receiver.wait_for_span("ping")
    assert (ping.trace_id, ping.parent_span_id) == ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")
    listed = receiver.wait_for_span("tools/list")
    assert listed.trace_id == CLIENT_TRACE
    assert [(t, s) for t, s, _ in listed.links] == [("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")]


def test_a_malformed_meta_traceparent_starts_a_new_trace(receiver):
    operation = received(params={"name": "echo", "_meta": {"traceparent": TRACEPARENT.upper()}})
    operation.finish({"result": {}})
    telemetry.flush()
    span = receiver.wait_for_span("tools/call echo")
    assert span.parent_span_id == ""
    assert span.trace_id != CLIENT_TRACE
    assert operation.carried.well_formed is False


def test_a_round_parent_is_used_when_the_client_sends_none(receiver):
    received(round_parent=TRACEPARENT).finish({"result": {}})
    telemetry.flush()
    span = receiver.wait_for_span("tools/call echo")
    assert (span.trace_id, span.parent_span_id) == (CLIENT_TRACE, CLIENT_SPAN)


def test_errors_carry_the_json_rpc_code(receiver):
    received(method="tools/list", params={}).finish(
        {"jsonrpc": "2.0", "id": 7, "error": {"code": -32602, "message": "Invalid params: no"}}
    )
    received(params={"name": "fail"}).finish({"result": {"isError": True, "content": []}})
    telemetry.flush()
    failed = receiver.wait_for_span("tools/list")
    assert failed.attributes["error.type"] == "-32602"
    assert failed.attributes["rpc.response.status_code"] == "-32602"
    assert (failed.status, failed.status_message) == ("ERROR", "Invalid params: no")
    tool = receiver.wait_for_span("tools/call fail")
    assert tool.attributes["error.type"] == "tool_error"
    assert tool.status == "ERROR"


def test_a_notification_has_no_request_id(receiver):
    received(method="notifications/initialized", params={}, request_id=None).finish(None)
    telemetry.flush()
    span = receiver.wait_for_span("notifications/initialized")
    assert "jsonrpc.request.id" not in span.attributes


def test_a_server_to_client_request_is_a_child_client_span_injected_in_meta(receiver):
    operation = received(params={"name": "sampleLLM", "_meta": {"traceparent": TRACEPARENT}})
    asked = operation.asking("sampling/createMessage", {"messages": [], "_meta": {"keep": 1}})
    sent_meta = asked.params["_meta"]
    assert sent_meta["keep"] == 1
    asked.finish({"jsonrpc": "2.0", "id": "srv-1", "result": {"content": {}}})
    operation.finish({"result": {}})
    telemetry.flush()
    server = receiver.wait_for_span("tools/call sampleLLM")
    child = receiver.wait_for_span("sampling/createMessage")
    assert child.kind == "CLIENT"
    assert (child.trace_id, child.parent_span_id) == (CLIENT_TRACE, server.span_id)
    assert sent_meta["traceparent"] == f"00-{CLIENT_TRACE}-{child.span_id}-01"


def test_a_client_request_that_times_out_is_an_error(receiver):
    operation = received()
    operation.asking("elicitation/create", None).finish(None, failure="timeout")
    operation.finish({"result": {}})
    telemetry.flush()
    child = receiver.wait_for_span("elicitation/create")
    assert child.attributes["error.type"] == "timeout"
    assert child.status == "ERROR"


def test_the_operation_duration_histogram(receiver):
    received().finish({"result": {}})
    received(method="tools/list", params={}).finish({"error": {"code": -32601, "message": "no"}})
    telemetry.flush()
    points = receiver.wait_for_points("mcp.server.operation.duration")
    by_method = {p.attributes["mcp.method.name"]: p for p in points}
    call = by_method["tools/call"]
    assert call.kind == "histogram"
    assert call.unit == "s"
    assert call.count == 1
    assert call.bounds == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300]
    assert call.attributes["gen_ai.tool.name"] == "echo"
    assert "mcp.session.id" not in call.attributes
    assert by_method["tools/list"].attributes["error.type"] == "-32601"


def test_the_session_duration_histogram(receiver):
    telemetry.session_ended(12.5, "2025-11-25")
    telemetry.flush()
    (point,) = receiver.wait_for_points("mcp.server.session.duration")
    assert (point.count, point.total, point.unit) == (1, 12.5, "s")
    assert point.attributes["mcp.protocol.version"] == "2025-11-25"


def test_finish_is_idempotent(receiver):
    operation = received()
    operation.finish({"result": {}})
    operation.finish({"error": {"code": -1, "message": "late"}})
    telemetry.flush()
    receiver.wait_for_span("tools/call echo")
    (point,) = receiver.wait_for_points("mcp.server.operation.duration")
    assert point.count == 1
    assert len([s for s in receiver.spans if s.name == "tools/call echo"]) == 1


def test_service_name_follows_otel_service_name(receiver, monkeypatch):
    monkeypatch.setenv("OTEL_SERVICE_NAME", "echo-east")
    telemetry.configure()
    received().finish({"result": {}})
    telemetry.flush()
    assert receiver.wait_for_span("tools/call echo").resource["service.name"] == "echo-east"
