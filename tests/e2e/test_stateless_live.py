"""The stateless era's streams against real uvicorn processes: subscriptions/listen (acknowledged
first, only the requested types, tagged, ended by the server with its result), a list change
made through node B reaching a listener on node A over Redis, an input_required round and a
task crossing nodes, and a request cancelled when the client closes its stream."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import httpx
import pytest

from tests.e2e.live import HTTP_TIMEOUT, LiveServer, SseStream, open_stream
from tests.support.modern_client import modern_headers, modern_post, modern_result, request_meta
from tests.support.schema_check import assert_modern_valid

pytestmark = pytest.mark.e2e

SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
PROMPTLY = 5.0


def listen_request(request_id: int, **notifications: Any) -> dict[str, Any]:
    params = {"notifications": notifications, "_meta": request_meta()}
    return {"jsonrpc": "2.0", "id": request_id, "method": "subscriptions/listen", "params": params}


def open_listen(http: httpx.AsyncClient, request_id: int, **notifications: Any):
    body = listen_request(request_id, **notifications)
    headers = modern_headers("subscriptions/listen", body["params"])
    return open_stream(http, "POST", "/mcp", json=body, headers=headers)


async def next_message(stream: SseStream) -> dict[str, Any]:
    message = await stream.next_message(PROMPTLY)
    return assert_modern_valid(message)


async def trigger(http: httpx.AsyncClient, tool: str) -> None:
    modern_result(await modern_post(http, "tools/call", {"name": tool, "arguments": {}}), "tools/call")


async def test_listen_acknowledges_then_delivers_only_requested_changes(server_factory):
    server: LiveServer = server_factory()
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http,
        open_listen(http, 41, toolsListChanged=True, resourceSubscriptions=["test://watched-resource"]) as (
            response,
            stream,
        ),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "mcp-session-id" not in response.headers
        ack = await next_message(stream)
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["_meta"][SUBSCRIPTION_ID] == 41
        assert ack["params"]["notifications"] == {
            "toolsListChanged": True,
            "resourceSubscriptions": ["test://watched-resource"],
        }
        await trigger(http, "test_trigger_prompt_change")  # not requested: never delivered
        await trigger(http, "test_trigger_tool_change")
        changed = await next_message(stream)
        assert changed["method"] == "notifications/tools/list_changed"
        assert changed["params"]["_meta"][SUBSCRIPTION_ID] == 41
        update = {"name": "updateResource", "arguments": {"uri": "test://watched-resource"}}
        modern_result(await modern_post(http, "tools/call", update), "tools/call")
        updated = await next_message(stream)
        assert updated["method"] == "notifications/resources/updated"
        assert updated["params"]["uri"] == "test://watched-resource"
        assert updated["params"]["_meta"][SUBSCRIPTION_ID] == 41


async def test_the_server_ends_a_subscription_with_its_result(server_factory):
    server: LiveServer = server_factory(MCP_LISTEN_TIMEOUT=1.5)
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http,
        open_listen(http, 7, promptsListChanged=True) as (_, stream),
    ):
        assert (await next_message(stream))["method"] == "notifications/subscriptions/acknowledged"
        items = await stream.wait_end(PROMPTLY)
        messages = [item.message for item in items if item.message is not None]
        assert len(messages) == 1, messages
        done = assert_modern_valid(messages[0], "SubscriptionsListenResult")
        assert done["id"] == 7
        assert done["result"]["resultType"] == "complete"
        assert done["result"]["_meta"][SUBSCRIPTION_ID] == 7


async def test_a_change_made_on_node_b_reaches_a_listener_on_node_a(server_factory, redis_url):
    env = {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": f"st{secrets.token_hex(4)}"}
    node_a, node_b = server_factory(**env), server_factory(**env)
    async with (
        httpx.AsyncClient(base_url=node_a.url, timeout=HTTP_TIMEOUT) as http_a,
        httpx.AsyncClient(base_url=node_b.url, timeout=HTTP_TIMEOUT) as http_b,
    ):
        assert (await http_a.get("/health")).json()["store"]["backend"] == "redis"
        async with open_listen(http_a, 3, toolsListChanged=True, promptsListChanged=True) as (_, stream):
            assert (await next_message(stream))["method"] == "notifications/subscriptions/acknowledged"
            await trigger(http_b, "test_trigger_prompt_change")
            changed = await next_message(stream)
            assert changed["method"] == "notifications/prompts/list_changed"
            assert changed["params"]["_meta"][SUBSCRIPTION_ID] == 3


async def cancelled_calls(http: httpx.AsyncClient) -> float:
    metrics = (await http.get("/metrics")).text
    pattern = r'^mcp_requests_cancelled_total\{method="tools/call"\} (\S+)$'
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_closing_a_request_stream_cancels_the_request(server_factory):
    server: LiveServer = server_factory()
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
        before = await cancelled_calls(http)
        params = {"name": "slowEcho", "arguments": {"message": "never", "seconds": 60}}
        params["_meta"] = {**request_meta(), "progressToken": "p1"}
        body = {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params}
        headers = modern_headers("tools/call", params)
        async with open_stream(http, "POST", "/mcp", json=body, headers=headers) as (response, stream):
            assert response.headers["content-type"].startswith("text/event-stream")
            progress = await next_message(stream)
            assert progress["method"] == "notifications/progress"
        for _ in range(50):  # bounded: the server notices the hang-up within a few seconds
            if await cancelled_calls(http) > before:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail(f"the request was not cancelled after its stream closed:\n{server.log()}")


async def test_an_input_required_round_started_on_a_completes_on_b(server_factory, redis_url):
    env = {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": f"st{secrets.token_hex(4)}"}
    node_a, node_b = server_factory(**env), server_factory(**env)  # each with its own secret key
    async with (
        httpx.AsyncClient(base_url=node_a.url, timeout=HTTP_TIMEOUT) as http_a,
        httpx.AsyncClient(base_url=node_b.url, timeout=HTTP_TIMEOUT) as http_b,
    ):
        params = {"name": "test_input_required_result_tampered_state", "arguments": {}}
        first = modern_result(await modern_post(http_a, "tools/call", params), "tools/call")
        retry = {**params, "requestState": first["requestState"]}
        retry["inputResponses"] = {"confirm": {"action": "accept", "content": {"ok": True}}}
        done = modern_result(await modern_post(http_b, "tools/call", retry), "tools/call")
        assert done["content"][0]["text"] == "integrity-ok: state verified"
        replayed = await modern_post(http_a, "tools/call", retry)
        assert replayed.json()["error"]["code"] == -32602  # the nonce was spent on node B


async def test_a_task_started_on_a_takes_its_input_and_is_read_on_b(server_factory, redis_url):
    env = {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": f"st{secrets.token_hex(4)}"}
    node_a, node_b = server_factory(**env), server_factory(**env)
    meta = request_meta(capabilities={"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}})
    async with (
        httpx.AsyncClient(base_url=node_a.url, timeout=HTTP_TIMEOUT) as http_a,
        httpx.AsyncClient(base_url=node_b.url, timeout=HTTP_TIMEOUT) as http_b,
    ):
        call = {"name": "confirm_delete", "arguments": {"filename": "a.txt"}}
        created = modern_result(await modern_post(http_a, "tools/call", call, meta=meta), "tools/call")
        task = {"taskId": created["taskId"]}

        async def on_b(*statuses: str) -> dict[str, Any]:
            for _ in range(100):  # bounded: the task parks or ends within a few seconds
                current = modern_result(await modern_post(http_b, "tasks/get", task, meta=meta), "tasks/get")
                if current["status"] in statuses:
                    return current
                await asyncio.sleep(0.1)
            raise AssertionError(f"the task never reached {statuses} on node B: {current}")

        waiting = await on_b("input_required")
        assert list(waiting["inputRequests"]) == ["confirm"]
        answer = {"confirm": {"action": "accept", "content": {"confirm": True}}}
        modern_result(
            await modern_post(http_b, "tasks/update", {**task, "inputResponses": answer}, meta=meta), "x"
        )
        done = await on_b("completed")
        assert done["result"]["content"][0]["text"] == "Deleted a.txt"
