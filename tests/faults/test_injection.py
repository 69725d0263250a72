"""Each fault of a profile, as a raw HTTP client sees it (in process; streams: tests/e2e)."""

from __future__ import annotations

import time

import orjson
import pytest
from prometheus_client import REGISTRY

from mcp.bus import OUTBOX, get_bus
from tests.support.client import McpClient
from tests.support.tokens import hs_token


def injected(kind: str) -> float:
    return REGISTRY.get_sample_value("mcp_faults_injected_total", {"kind": kind}) or 0.0


async def set_faults(client: McpClient, **profile) -> None:
    result = await client.call_tool("setFaults", profile)
    assert "isError" not in result, result


async def test_latency_is_added_before_the_answer(session):
    before = injected("latency")
    await set_faults(session, seed=1, latency={"ms": 400})
    started = time.perf_counter()
    assert await session.tool_text("echo", {"message": "late"})
    assert time.perf_counter() - started >= 0.4
    assert injected("latency") == before + 1


async def test_a_tool_call_answered_with_is_error(session):
    await set_faults(session, seed=1, toolError={"rate": 1})
    result = await session.call_tool("echo", {"message": "hi"})
    assert result == {"content": [{"type": "text", "text": "echo failed (injected fault)"}], "isError": True}
    # The tool did not run: nothing was remembered.
    await set_faults(session, clear=True)
    assert "No previous echo" in await session.tool_text("replayLastEcho", {})


async def test_a_tool_call_answered_with_a_json_rpc_error(session):
    before = injected("rpc_error")
    await set_faults(session, seed=1, toolError={"rate": 1, "as": "jsonrpc"})
    response = await session.rpc("tools/call", {"name": "echo", "arguments": {"message": "hi"}})
    assert response["error"]["code"] == -32603
    assert "injected fault" in response["error"]["message"]
    # Other methods are not tool calls: unaffected.
    assert "result" in await session.rpc("ping")
    assert injected("rpc_error") == before + 1


@pytest.mark.parametrize("status", [500, 503])
async def test_http_errors_come_before_any_handling(session, status):
    await set_faults(session, seed=1, httpError={"rate": 1, "status": status, "retryAfter": 7})
    response = await session.request("tools/call", {"name": "echo", "arguments": {"message": "x"}})
    assert response.status_code == status
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["error"]["code"] == -32603
    assert "injected fault" in body["error"]["message"]
    if status == 503:
        assert response.headers["retry-after"] == "7"
    else:
        assert "retry-after" not in response.headers


async def test_a_rate_follows_the_seed(http):
    """Two sessions, same seed: the same requests fail, in the same order."""
    outcomes = []
    for _ in range(2):
        client = McpClient(http)
        await client.initialize()
        await set_faults(client, seed=2024, httpError={"rate": 0.5})
        statuses = [(await client.request("ping")).status_code for _ in range(30)]
        outcomes.append(statuses)
    assert outcomes[0] == outcomes[1]
    assert {200, 503} == set(outcomes[0])


async def test_unauthorized_on_the_next_request_only_without_jwt(session):
    await set_faults(session, seed=1, unauthorized={})
    refused = await session.request("ping")
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert "result" in await session.rpc("ping")


async def test_unauthorized_in_jwt_mode_points_at_the_resource_metadata(http, jwt_mode):
    client = McpClient(http, extra_headers={"Authorization": f"Bearer {hs_token()}"})
    await client.initialize()
    await set_faults(client, seed=1, unauthorized={"after": 1})
    assert "result" in await client.rpc("ping")
    refused = await client.request("ping")
    assert refused.status_code == 401
    challenge = refused.headers["www-authenticate"]
    assert 'resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"' in challenge
    assert 'error="invalid_token"' in challenge
    assert "result" in await client.rpc("ping")


async def test_the_session_expires_and_the_client_must_initialize_again(http, session):
    other = McpClient(http)
    await other.initialize()
    await set_faults(session, seed=1, expire={})
    for _ in range(2):
        gone = await session.request("ping")
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == -32001
        assert gone.headers["mcp-session-id"] == session.session_id
    deleted = await http.delete("/mcp", headers={"Mcp-Session-Id": session.session_id})
    assert deleted.status_code == 404
    # Another client's session is untouched; a new initialize works.
    assert "result" in await other.rpc("ping")
    session.session_id = None
    await session.initialize()
    assert "result" in await session.rpc("ping")


async def test_a_burst_of_list_changed_is_queued_on_the_get_stream(session):
    await set_faults(session, seed=1, listChangedBurst={"count": 25, "kind": "prompts"})
    assert "result" in await session.rpc("ping")
    queued = await get_bus().read(session.session_id, OUTBOX, 0, 0.1)
    methods = [event.message["method"] for event in queued if event.message]
    assert methods == ["notifications/prompts/list_changed"] * 25


async def test_an_oversized_result_has_the_size_asked_for(session):
    await set_faults(session, seed=1, oversized={"bytes": 500_000})
    response = await session.request("tools/call", {"name": "echo", "arguments": {"message": "big"}})
    result = response.json()["result"]
    assert 499_000 <= len(orjson.dumps(result)) <= 500_000
    assert "big" in result["content"][0]["text"]


async def test_an_invalid_mcp_faults_header_refuses_initialize_without_a_session(mcp_client):
    mcp_client.extra_headers["MCP-Faults"] = '{"httpError": {"rate": 9}}'
    response = await mcp_client.post(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
    )
    assert response.status_code == 400
    assert "invalid MCP-Faults header: httpError/rate" in response.json()["error"]["message"]
    assert "mcp-session-id" not in response.headers


async def test_the_mcp_faults_header_on_initialize_sets_the_profile(mcp_client):
    mcp_client.extra_headers["MCP-Faults"] = orjson.dumps({"seed": 3, "httpError": {"rate": 1}}).decode()
    await mcp_client.initialize(send_initialized=False)
    mcp_client.extra_headers.clear()
    assert (await mcp_client.request("ping")).status_code == 503


async def test_faults_never_reach_another_session(http, session):
    other = McpClient(http)
    await other.initialize()
    await set_faults(session, seed=1, httpError={"rate": 1, "status": 500})
    for _ in range(5):
        assert "result" in await other.rpc("ping")
