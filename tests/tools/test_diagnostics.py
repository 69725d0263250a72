"""The client-author diagnostics: notifications, list changes, resource updates, dropped
streams, server-to-client requests, cancellation and tasks."""

from __future__ import annotations

import asyncio

from mcp.bus import OUTBOX, get_bus
from tests.support.client import McpClient, messages_of, parse_sse


async def outbox_messages(session: McpClient) -> list[dict]:
    events = await get_bus().read(session.session_id, OUTBOX, 0, 0)
    return [event.message for event in events if event.message]


async def server_request(session: McpClient, method: str, *, within: float = 2.0) -> dict:
    """The server-to-client request a running tool published on its request stream."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        for number in range(1, 20):
            stream = f"r{number}"
            if not await get_bus().exists(session.session_id, stream):
                continue
            for event in await get_bus().read(session.session_id, stream, 0, 0):
                if event.message and event.message.get("method") == method:
                    return event.message
        await asyncio.sleep(0.01)
    raise AssertionError(f"the server sent no {method}")


class TestListChanged:
    async def test_it_adds_the_dynamic_tool_and_notifies_on_the_get_stream(self, session):
        names = {tool["name"] for tool in (await session.rpc("tools/list"))["result"]["tools"]}
        assert "dynamicEcho" not in names
        text = await session.tool_text("triggerListChanged", {})
        assert text.startswith("dynamicEcho added")
        names = {tool["name"] for tool in (await session.rpc("tools/list"))["result"]["tools"]}
        assert "dynamicEcho" in names
        assert await session.tool_text("dynamicEcho", {"message": "x"}) == "[dynamic] x"
        assert [m["method"] for m in await outbox_messages(session)] == ["notifications/tools/list_changed"]

    async def test_a_second_trigger_removes_it_again(self, session):
        await session.call_tool("triggerListChanged", {})
        await session.call_tool("triggerListChanged", {})
        response = await session.rpc("tools/call", {"name": "dynamicEcho", "arguments": {"message": "x"}})
        assert response["error"]["code"] == -32602

    async def test_dynamic_items_are_per_session(self, session, http):
        await session.call_tool("triggerListChanged", {"kind": "resources"})
        other = McpClient(http)
        await other.initialize()
        uris = {r["uri"] for r in (await other.rpc("resources/list"))["result"]["resources"]}
        assert "echo://dynamic" not in uris
        uris = {r["uri"] for r in (await session.rpc("resources/list"))["result"]["resources"]}
        assert "echo://dynamic" in uris


class TestUpdateResource:
    async def test_a_subscribed_session_gets_resources_updated(self, session):
        assert (await session.rpc("resources/subscribe", {"uri": "echo://counter"}))["result"] == {}
        text = await session.tool_text("updateResource", {})
        assert "notification" in text and "not subscribed" not in text
        [note] = await outbox_messages(session)
        assert note == {
            "jsonrpc": "2.0",
            "method": "notifications/resources/updated",
            "params": {"uri": "echo://counter"},
        }
        read = await session.rpc("resources/read", {"uri": "echo://counter"})
        assert "1 time(s)" in read["result"]["contents"][0]["text"]

    async def test_an_unsubscribed_session_gets_nothing(self, session):
        await session.rpc("resources/subscribe", {"uri": "echo://counter"})
        await session.rpc("resources/unsubscribe", {"uri": "echo://counter"})
        assert "not subscribed" in await session.tool_text("updateResource", {})
        assert await outbox_messages(session) == []

    async def test_subscribing_to_an_unknown_resource_is_an_error(self, session):
        response = await session.rpc("resources/subscribe", {"uri": "nope://x"})
        assert response["error"]["code"] == -32002


class TestDropStream:
    async def test_the_result_arrives_on_the_resumed_stream(self, session):
        response = await session.request("tools/call", {"name": "dropStream", "arguments": {"delay": 0.05}})
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.text)
        assert all(not event.data for event in events), "no result on the dropped stream"
        assert events[0].retry == 1000
        last = [event.id for event in events if event.id][-1]
        resumed = await session.http.get(
            "/mcp", headers=session.headers(Accept="text/event-stream", **{"Last-Event-ID": last})
        )
        assert resumed.status_code == 200
        [result] = messages_of(resumed)
        assert result["result"]["content"][0]["text"].startswith("This result was delivered after")

    async def test_a_json_only_client_gets_a_tool_error(self, session):
        result = await session.call_tool("dropStream", {}, Accept="application/json")
        assert result["isError"] is True


class TestServerToClientRequests:
    async def test_a_sampling_round_trip(self, mcp_client):
        await mcp_client.initialize(capabilities={"sampling": {}})
        call = asyncio.create_task(mcp_client.call_tool("requestSampling", {"prompt": "2+2?"}))
        request = await server_request(mcp_client, "sampling/createMessage")
        assert request["params"]["messages"][0]["content"]["text"] == "2+2?"
        answer = {
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": {"role": "assistant", "content": {"type": "text", "text": "4"}, "model": "m1"},
        }
        assert (await mcp_client.post(answer)).status_code == 202
        result = await asyncio.wait_for(call, 5)
        assert result["content"][0]["text"] == "Sampling result from model m1: 4"

    async def test_an_elicitation_round_trip(self, mcp_client):
        await mcp_client.initialize(capabilities={"elicitation": {}})
        call = asyncio.create_task(mcp_client.call_tool("requestElicitation", {}))
        request = await server_request(mcp_client, "elicitation/create")
        assert request["params"]["requestedSchema"]["type"] == "object"
        answer = {
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": {"action": "accept", "content": {"name": "Ada"}},
        }
        await mcp_client.post(answer)
        result = await asyncio.wait_for(call, 5)
        assert result["content"][0]["text"] == 'Elicitation answer: action=accept, content={"name":"Ada"}'

    async def test_no_request_is_sent_to_a_client_without_the_capability(self, session):
        result = await session.call_tool("requestSampling", {"prompt": "x"})
        assert result["isError"] is True
        assert "did not declare the 'sampling' capability" in result["content"][0]["text"]

    async def test_an_unanswered_request_times_out_with_a_clear_error(self, mcp_client):
        await mcp_client.initialize(capabilities={"sampling": {}})
        response = await mcp_client.request(
            "tools/call", {"name": "requestSampling", "arguments": {"prompt": "x", "timeout": 0.2}}
        )
        messages = messages_of(response)
        methods = [m.get("method") for m in messages]
        assert methods[:2] == ["sampling/createMessage", "notifications/cancelled"]
        assert messages[1]["params"]["requestId"] == messages[0]["id"]
        assert messages[-1]["result"]["isError"] is True
        assert (
            "did not answer sampling/createMessage within 0.2s"
            in messages[-1]["result"]["content"][0]["text"]
        )

    async def test_a_client_error_answer_is_reported(self, mcp_client):
        await mcp_client.initialize(capabilities={"sampling": {}})
        call = asyncio.create_task(mcp_client.call_tool("requestSampling", {"prompt": "x"}))
        request = await server_request(mcp_client, "sampling/createMessage")
        await mcp_client.post(
            {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -1, "message": "refused"}}
        )
        result = await asyncio.wait_for(call, 5)
        assert result["isError"] is True and "refused" in result["content"][0]["text"]


class TestProgressAndCancellation:
    async def test_slow_echo_reports_progress_with_the_clients_token_before_the_result(self, session):
        response = await session.request(
            "tools/call",
            {
                "name": "slowEcho",
                "arguments": {"message": "hi", "seconds": 0.3},
                "_meta": {"progressToken": "tok"},
            },
        )
        messages = messages_of(response)
        progress = [m["params"] for m in messages if m.get("method") == "notifications/progress"]
        assert progress and all(p["progressToken"] == "tok" for p in progress)
        values = [p["progress"] for p in progress]
        assert values == sorted(set(values))
        assert messages[-1]["result"]["content"][0]["text"] == "hi"

    async def test_no_progress_without_a_token(self, session):
        response = await session.request(
            "tools/call", {"name": "slowEcho", "arguments": {"message": "a", "seconds": 0}}
        )
        assert response.headers["content-type"] == "application/json"

    async def test_notifications_cancelled_stops_the_running_tool(self, session):
        call = asyncio.create_task(
            session.request(
                "tools/call",
                {"name": "slowEcho", "arguments": {"message": "x", "seconds": 30}},
                Accept="application/json",
            )
        )
        await asyncio.sleep(0.1)
        request_id = 2  # initialize was 1 in this client
        note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}
        assert (await session.post(note)).status_code == 202
        response = await asyncio.wait_for(call, 5)
        assert response.json()["error"]["code"] == -32800


class TestTasks:
    async def start(self, session: McpClient, seconds: float) -> str:
        response = await session.rpc(
            "tools/call",
            {
                "name": "slowEcho",
                "arguments": {"message": "done", "seconds": seconds},
                "task": {"ttl": 60000},
            },
        )
        task = response["result"]["task"]
        assert task["status"] == "working" and task["ttl"] == 60000
        return task["taskId"]

    async def test_a_task_runs_in_the_background_and_its_result_waits_for_it(self, session):
        task_id = await self.start(session, 0.2)
        assert (await session.rpc("tasks/get", {"taskId": task_id}))["result"]["status"] == "working"
        result = (await session.rpc("tasks/result", {"taskId": task_id}))["result"]
        assert result["content"][0]["text"] == "done"
        assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task_id}
        assert (await session.rpc("tasks/get", {"taskId": task_id}))["result"]["status"] == "completed"
        listed = (await session.rpc("tasks/list"))["result"]["tasks"]
        assert [task["taskId"] for task in listed] == [task_id]

    async def test_cancel_moves_a_task_to_cancelled_and_a_second_cancel_is_an_error(self, session):
        task_id = await self.start(session, 30)
        cancelled = await session.rpc("tasks/cancel", {"taskId": task_id})
        assert cancelled["result"]["status"] == "cancelled"
        again = await session.rpc("tasks/cancel", {"taskId": task_id})
        assert again["error"]["code"] == -32602

    async def test_unknown_tasks_and_other_sessions_tasks_are_invalid_params(self, session, http):
        task_id = await self.start(session, 0.1)
        other = McpClient(http)
        await other.initialize()
        for client, task in ((session, "nope"), (other, task_id)):
            response = await client.rpc("tasks/get", {"taskId": task})
            assert response["error"]["code"] == -32602

    async def test_a_tool_without_task_support_refuses_a_task(self, session):
        response = await session.rpc(
            "tools/call", {"name": "echo", "arguments": {"message": "x"}, "task": {}}
        )
        assert response["error"]["code"] == -32601
