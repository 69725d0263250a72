"""The HTTP rules of /mcp, each checked with a raw request: status, headers, body."""

from __future__ import annotations

import dataclasses
import re

import orjson
import pytest

from mcp.bus import OUTBOX, get_bus
from mcp.sessions.sweeper import sweep_once
from mcp.store import get_store
from mcp.tools import get_registry
from tests.support.client import McpClient, messages_of, parse_sse
from tests.support.schema_check import assert_valid

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def init_with(version: str) -> dict:
    return {**INIT, "params": {**INIT["params"], "protocolVersion": version}}


def assert_error(response, status: int, code: int, *, has_id: object = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = assert_valid(response.json())
    assert body["jsonrpc"] == "2.0"
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if has_id is None:
        assert "id" not in body
    else:
        assert body["id"] == has_id
    return body


class TestInitialize:
    async def test_it_creates_a_session_with_a_random_visible_ascii_id(self, http):
        response = await http.post("/mcp", content=orjson.dumps(INIT), headers=JSON_HEADERS)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        session_id = response.headers["mcp-session-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", session_id)
        body = response.json()
        assert body["id"] == 1
        assert body["result"]["protocolVersion"] == "2025-06-18"
        assert body["result"]["serverInfo"]["name"] == "mcp-echo-stateful-server"
        assert "tools" in body["result"]["capabilities"]

    async def test_ids_are_unique(self, http):
        ids = set()
        for _ in range(50):
            response = await http.post("/mcp", content=orjson.dumps(INIT), headers=JSON_HEADERS)
            ids.add(response.headers["mcp-session-id"])
        assert len(ids) == 50

    @pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"])
    async def test_it_answers_a_supported_version_with_the_same_version(self, http, version):
        response = await http.post("/mcp", content=orjson.dumps(init_with(version)), headers=JSON_HEADERS)
        assert response.json()["result"]["protocolVersion"] == version

    @pytest.mark.parametrize("version", ["1999-01-01", "2026-07-28", "", None, 42])
    async def test_it_negotiates_an_unsupported_version_to_the_latest_never_an_error(self, http, version):
        response = await http.post("/mcp", content=orjson.dumps(init_with(version)), headers=JSON_HEADERS)
        assert response.status_code == 200
        assert response.json()["result"]["protocolVersion"] == "2025-11-25"

    async def test_it_answers_with_sse_when_the_client_accepts_only_sse(self, http):
        headers = {**JSON_HEADERS, "Accept": "text/event-stream"}
        response = await http.post("/mcp", content=orjson.dumps(INIT), headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["mcp-session-id"]
        [message] = messages_of(response)
        assert message["id"] == 1 and message["result"]["protocolVersion"] == "2025-06-18"

    async def test_initialize_with_a_session_header_is_refused(self, http):
        headers = {**JSON_HEADERS, "Mcp-Session-Id": "abc"}
        response = await http.post("/mcp", content=orjson.dumps(INIT), headers=headers)
        assert_error(response, 400, -32600)

    async def test_initialize_sent_as_a_notification_creates_no_session(self, http):
        note = {k: v for k, v in INIT.items() if k != "id"}
        response = await http.post("/mcp", content=orjson.dumps(note), headers=JSON_HEADERS)
        assert_error(response, 400, -32600)
        assert (await get_store().stats()).active == 0

    async def test_wrong_typed_client_info_is_invalid_params_and_creates_nothing(self, http):
        body = {**INIT, "params": {**INIT["params"], "clientInfo": None, "capabilities": "x"}}
        response = await http.post("/mcp", content=orjson.dumps(body), headers=JSON_HEADERS)
        assert response.status_code == 200
        assert response.json()["error"]["code"] == -32602
        assert "mcp-session-id" not in response.headers
        assert (await get_store().stats()).active == 0

    async def test_the_seed_quick_start_without_capabilities_works(self, http):
        body = {
            "jsonrpc": "2.0",
            "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "clientInfo": {"name": "test", "version": "1.0"}},
            "id": 1,
        }
        response = await http.post("/mcp", content=orjson.dumps(body), headers=JSON_HEADERS)
        assert response.status_code == 200 and response.headers["mcp-session-id"]


class TestSessionRules:
    async def test_a_request_without_session_header_gets_400(self, http):
        body = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        response = await http.post("/mcp", content=orjson.dumps(body), headers=JSON_HEADERS)
        assert_error(response, 400, -32600)

    async def test_an_unknown_session_gets_404_with_a_json_rpc_error(self, http):
        headers = {**JSON_HEADERS, "Mcp-Session-Id": "f" * 32}
        body = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        response = await http.post("/mcp", content=orjson.dumps(body), headers=headers)
        assert_error(response, 404, -32001)
        assert response.headers["mcp-session-id"] == "f" * 32

    async def test_a_malformed_session_id_gets_400(self, http):
        headers = {**JSON_HEADERS, "Mcp-Session-Id": "has space"}
        response = await http.post(
            "/mcp", content=b'{"jsonrpc":"2.0","id":1,"method":"ping"}', headers=headers
        )
        assert_error(response, 400, -32600)

    async def test_delete_ends_the_session_and_then_every_call_gets_404(self, session):
        response = await session.http.delete("/mcp", headers={"Mcp-Session-Id": session.session_id})
        assert response.status_code == 204
        assert response.content == b""
        for method in ("ping", "tools/list"):
            assert_error(await session.request(method), 404, -32001)
        response = await session.http.get("/mcp", headers=session.headers(Accept="text/event-stream"))
        assert_error(response, 404, -32001)
        response = await session.http.delete("/mcp", headers={"Mcp-Session-Id": session.session_id})
        assert_error(response, 404, -32001)

    async def test_delete_without_session_header_gets_400(self, http):
        assert_error(await http.delete("/mcp"), 400, -32600)

    async def test_an_expired_session_gets_404_even_before_the_sweeper_runs(self, session, monkeypatch):
        monkeypatch.setattr(get_store(), "timeout", 0.0)
        assert_error(await session.request("ping"), 404, -32001)

    async def test_the_sweeper_removes_idle_sessions_and_their_queues(self, session, monkeypatch):
        await session.call_tool("sendNotifications", {"count": 2})
        monkeypatch.setattr(get_store(), "timeout", 0.0)
        gone = await sweep_once()
        assert gone == [session.session_id]
        assert (await get_store().stats()).active == 0
        assert not await get_bus().exists(session.session_id, OUTBOX)

    async def test_two_sessions_never_see_each_others_state(self, http):
        alice, bob = McpClient(http), McpClient(http)
        await alice.initialize(client_name="alice")
        await bob.initialize(client_name="bob")
        await alice.tool_text("echo", {"message": "alice's secret"})
        replay = await bob.tool_text("replayLastEcho", {})
        assert replay.startswith("No previous echo message found")
        assert "alice's secret" in await alice.tool_text("replayLastEcho", {})


class TestPostRules:
    async def test_ping_returns_an_empty_result(self, session):
        response = await session.rpc("ping")
        assert response["result"] == {}

    async def test_a_notification_gets_202_and_no_body(self, session):
        response = await session.post(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}}
        )
        assert response.status_code == 202
        assert response.content == b""
        assert "content-type" not in response.headers

    async def test_an_unknown_notification_gets_202(self, session):
        response = await session.post({"jsonrpc": "2.0", "method": "notifications/whatever"})
        assert response.status_code == 202 and response.content == b""

    async def test_a_client_response_gets_202_and_no_body(self, session):
        response = await session.post({"jsonrpc": "2.0", "id": "srv-1", "result": {}})
        assert response.status_code == 202 and response.content == b""

    async def test_an_unknown_method_is_method_not_found(self, session):
        response = await session.request("no/such/method")
        assert response.status_code == 200
        body = response.json()
        assert body["error"]["code"] == -32601 and body["id"] is not None

    async def test_a_parse_error_gets_400_and_no_id(self, session):
        response = await session.post(b'{"jsonrpc": "2.0", "id": 1, "method": ')
        assert_error(response, 400, -32700)

    @pytest.mark.parametrize("body", [b"42", b"null", b'"text"', b"true"])
    async def test_a_scalar_body_is_an_invalid_request(self, session, body):
        assert_error(await session.post(body), 400, -32600)

    async def test_wrong_jsonrpc_version_is_invalid_request_with_the_id(self, session):
        response = await session.post({"jsonrpc": "1.0", "id": 7, "method": "ping"})
        assert_error(response, 400, -32600, has_id=7)

    @pytest.mark.parametrize("params", [[1, 2], "x", 3])
    async def test_non_object_params_are_invalid_params_with_the_id(self, session, params):
        response = await session.post({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": params})
        assert_error(response, 400, -32602, has_id=8)

    async def test_null_params_are_treated_as_absent(self, session):
        response = await session.post({"jsonrpc": "2.0", "id": 8, "method": "ping", "params": None})
        assert response.json() == {"jsonrpc": "2.0", "id": 8, "result": {}}

    @pytest.mark.parametrize("request_id", [None, 1.5, {"a": 1}, True])
    async def test_ids_must_be_strings_or_integers(self, session, request_id):
        response = await session.post({"jsonrpc": "2.0", "id": request_id, "method": "ping"})
        assert_error(response, 400, -32600)

    async def test_a_non_json_content_type_gets_415(self, session):
        response = await session.post(
            b'{"jsonrpc":"2.0","id":1,"method":"ping"}', **{"Content-Type": "text/plain"}
        )
        assert_error(response, 415, -32600)

    async def test_an_accept_without_json_or_sse_gets_406(self, session):
        response = await session.post(b'{"jsonrpc":"2.0","id":1,"method":"ping"}', Accept="text/html")
        assert_error(response, 406, -32600)

    async def test_json_only_accept_gets_json(self, session):
        response = await session.request("ping", Accept="application/json")
        assert response.headers["content-type"] == "application/json"

    async def test_sse_only_accept_gets_the_response_as_an_event(self, session):
        response = await session.request("ping", Accept="text/event-stream")
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache, no-transform"
        assert response.headers["x-accel-buffering"] == "no"
        events = parse_sse(response.text)
        # A priming event (id, empty data) first at 2025-11-25, then the response with an id.
        assert events[0].data == "" and events[0].id
        assert events[-1].json["result"] == {} and events[-1].id

    async def test_an_unsupported_protocol_header_gets_400(self, session):
        response = await session.request("ping", **{"MCP-Protocol-Version": "1999-01-01"})
        assert_error(response, 400, -32600)

    async def test_another_supported_protocol_header_is_accepted(self, session):
        response = await session.request("ping", **{"MCP-Protocol-Version": "2025-03-26"})
        assert response.status_code == 200

    async def test_unsupported_http_methods_get_405_with_allow(self, http):
        response = await http.put("/mcp", content=b"{}", headers=JSON_HEADERS)
        assert_error(response, 405, -32600)
        assert response.headers["allow"] == "GET, POST, DELETE, OPTIONS"

    async def test_a_body_over_the_limit_gets_413(self, session, settings):
        settings.MCP_MAX_BODY_BYTES = 2048
        big = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "a" * 4096}})
        assert_error(await session.post(big), 413, -32600)

    async def test_json_nested_past_the_limit_is_a_parse_error(self, session):
        deep = b"[" * 200 + b"]" * 200
        assert_error(await session.post(deep), 400, -32700)


class TestBatches:
    async def test_a_batch_is_refused_after_2025_03_26(self, session):
        response = await session.post([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])
        assert_error(response, 400, -32600)

    async def test_a_batch_at_2025_03_26_is_answered_with_an_array(self, mcp_client):
        await mcp_client.initialize(version="2025-03-26")
        response = await mcp_client.post(
            [
                {"jsonrpc": "2.0", "id": 1, "method": "ping"},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "no/such"},
                {
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"message": "b"}},
                },
            ]
        )
        assert response.status_code == 200
        by_id = {message["id"]: message for message in response.json()}
        assert by_id[1]["result"] == {}
        assert by_id[2]["error"]["code"] == -32601
        assert by_id[3]["result"]["content"][0]["text"].endswith("] b")

    async def test_a_batch_of_notifications_gets_202(self, mcp_client):
        await mcp_client.initialize(version="2025-03-26")
        response = await mcp_client.post([{"jsonrpc": "2.0", "method": "notifications/initialized"}])
        assert response.status_code == 202 and response.content == b""

    async def test_an_empty_batch_is_invalid(self, mcp_client):
        await mcp_client.initialize(version="2025-03-26")
        assert_error(await mcp_client.post([]), 400, -32600)


class TestTools:
    async def test_tools_list_has_the_eleven_seed_tools_with_description_and_schema(self, session):
        response = await session.rpc("tools/list")
        tools = {tool["name"]: tool for tool in response["result"]["tools"]}
        seed = {
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
        }
        assert seed <= set(tools)
        for tool in tools.values():
            assert tool["description"]
            assert tool["inputSchema"]["type"] == "object"

    async def test_an_unknown_tool_is_invalid_params(self, session):
        response = await session.rpc("tools/call", {"name": "nope", "arguments": {}})
        assert response["error"]["code"] == -32602
        assert "nope" in response["error"]["message"]

    @pytest.mark.parametrize(
        "arguments, reason",
        [
            ({}, "'message' is a required property"),
            ({"message": 5}, "is not of type 'string'"),
            ("x", "must be an object"),
        ],
    )
    async def test_a_bad_argument_is_a_tool_error_result(self, session, arguments, reason):
        result = await session.call_tool("echo", arguments)
        assert result["isError"] is True
        assert reason in result["content"][0]["text"]

    async def test_extra_arguments_are_refused(self, session):
        result = await session.call_tool("echo", {"message": "x", "evil": 1})
        assert result["isError"] is True

    async def test_a_crashing_tool_is_an_internal_error_without_traceback(self, session, monkeypatch):
        tool = get_registry().get("echo")

        async def boom(ctx, args):
            raise RuntimeError("boom with password=hunter2")

        monkeypatch.setitem(get_registry()._tools, "echo", dataclasses.replace(tool, func=boom))
        response = await session.request("tools/call", {"name": "echo", "arguments": {"message": "x"}})
        assert response.status_code == 200
        body = response.json()
        assert body["error"]["code"] == -32603
        assert body["error"]["message"] == "Internal error"
        assert "errorId" in body["error"]["data"]
        assert (
            "Traceback" not in response.text
            and "hunter2" not in response.text
            and "boom" not in response.text
        )

    async def test_notifications_before_the_result_switch_the_answer_to_sse(self, session):
        response = await session.request(
            "tools/call", {"name": "sendNotifications", "arguments": {"count": 3, "target": "request"}}
        )
        assert response.headers["content-type"].startswith("text/event-stream")
        messages = messages_of(response)
        assert [m.get("method") for m in messages[:3]] == ["notifications/message"] * 3
        assert messages[-1]["result"]["content"][0]["text"] == "3 notifications sent on this request's stream"
        ids = [event.id for event in parse_sse(response.text)]
        assert len(ids) == len(set(ids))

    async def test_the_session_queue_keeps_the_newest_100_and_counts_the_dropped(self, session):
        await session.call_tool("sendNotifications", {"count": 150})
        info = await get_bus().info(session.session_id, OUTBOX)
        assert info.queued == 100
        assert info.dropped == 50


class TestGetRules:
    async def test_get_without_sse_accept_gets_406(self, session):
        response = await session.http.get("/mcp", headers=session.headers(Accept="application/json"))
        assert_error(response, 406, -32600)

    async def test_get_without_session_gets_400(self, http):
        response = await http.get("/mcp", headers={"Accept": "text/event-stream"})
        assert_error(response, 400, -32600)


class TestHostAndOrigin:
    async def test_a_foreign_host_gets_403(self, http):
        headers = {**JSON_HEADERS, "Host": "evil.example.com"}
        assert_error(await http.post("/mcp", content=orjson.dumps(INIT), headers=headers), 403, -32600)

    async def test_a_foreign_origin_gets_403(self, http):
        headers = {**JSON_HEADERS, "Origin": "http://evil.example.com"}
        assert_error(await http.post("/mcp", content=orjson.dumps(INIT), headers=headers), 403, -32600)

    @pytest.mark.parametrize(
        "origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://[::1]:8080"]
    )
    async def test_local_origins_on_any_port_are_allowed(self, http, origin):
        headers = {**JSON_HEADERS, "Origin": origin}
        response = await http.post("/mcp", content=orjson.dumps(INIT), headers=headers)
        assert response.status_code == 200
