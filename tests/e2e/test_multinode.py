"""Two real server processes sharing one Redis: no sticky sessions needed.

Nodes A and B are separate uvicorn processes started by ``server_factory`` with the same
REDIS_URL (a private redis-server from tests/support/redis_server.py, never the system one) and
their own MCP_REDIS_PREFIX per test, so tests do not see each other's sessions. Whatever a
client does on one node is visible on the other: session state, GET-stream notifications,
replies to server-to-client requests, tasks, resumable request streams, DELETE and
expiry. The last test shows why Redis is needed: memory-backed servers share nothing.

Every exchange is raw HTTP (httpx) on 127.0.0.1 with bounded timeouts; every JSON-RPC
message read is checked against the official schema.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mcp.store.redis import RedisSessionStore
from tests.e2e.cluster import Cluster, Node, on
from tests.e2e.deps import REPO
from tests.e2e.live import (
    HTTP_TIMEOUT,
    SSE,
    SseStream,
    get_headers,
    open_get,
    open_stream,
    server_env,
)
from tests.support.client import ACCEPT_BOTH, McpClient, messages_of, parse_sse
from tests.support.schema_check import assert_valid

pytestmark = pytest.mark.e2e


JSON = "application/json"
# Long enough for several 0.3 s keep-alive rounds: a message that was going to arrive would have.
QUIET = 1.2
PROMPTLY = 3.0
SUBPROCESS_TIMEOUT = 60.0


# --- Two nodes, one session -------------------------------------------------------------------


# --- Helpers ---------------------------------------------------------------------------------------


async def next_message(stream: SseStream, timeout: float = PROMPTLY) -> dict[str, Any]:
    """The next JSON-RPC message of a live stream, checked against the schema."""
    return assert_valid(await stream.next_message(timeout))


async def read_messages(stream: SseStream, count: int) -> list[dict[str, Any]]:
    return [await next_message(stream) for _ in range(count)]


async def quiet(stream: SseStream) -> list[dict[str, Any]]:
    return [assert_valid(message) for message in await stream.messages_for(QUIET)]


def log_data(messages: list[dict[str, Any]]) -> list[str]:
    for message in messages:
        assert message.get("method") == "notifications/message", message
        assert "id" not in message, message
    return [message["params"]["data"] for message in messages]


def event_seq(event_id: str | None) -> tuple[str, int]:
    assert event_id, "an event without an id cannot be resumed"
    stream, _, seq = event_id.rpartition("-")
    assert stream and seq.isdigit(), event_id
    return stream, int(seq)


def text_of(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


def assert_session_not_found(response: httpx.Response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(JSON)
    body = response.json()
    assert body["error"]["code"] == -32001, body
    assert body["error"]["message"], body


async def assert_gone(client: McpClient, *nodes: Node) -> None:
    """Every node answers 404 to POST, GET and DELETE for the session."""
    for node in nodes:
        there = on(client, node)
        assert_session_not_found(await there.request("tools/list"))
        assert_session_not_found(await node.http.get(there.path, headers=get_headers(there)))
        assert_session_not_found(await node.http.delete(there.path, headers=there.headers()))


async def start_task(client: McpClient, message: str, seconds: float) -> dict[str, Any]:
    response = await client.rpc(
        "tools/call",
        {
            "name": "slowEcho",
            "arguments": {"message": message, "seconds": seconds},
            "task": {"ttl": 60000},
        },
    )
    task = response["result"]["task"]
    assert task["status"] == "working", task
    assert task["ttl"] == 60000
    return task


# --- 1. Session state ------------------------------------------------------------------------------


async def test_a_session_initialized_on_a_is_served_by_b(cluster: Cluster):
    on_a = await cluster.initialize(cluster.a)
    on_b = on(on_a, cluster.b)

    echoed = await on_b.request("tools/call", {"name": "echo", "arguments": {"message": "hello from B"}})
    assert echoed.status_code == 200, echoed.text
    assert echoed.headers["content-type"].startswith(JSON)
    [answer] = messages_of(echoed)
    assert_valid(answer, "CallToolResult")
    tag = f"Session {on_a.session_id[:8]}..."
    assert text_of(answer["result"]) == f"[{tag} from multinode] hello from B"

    replay = await on_a.tool_text("replayLastEcho")
    assert replay == f"[REPLAY - {tag} from multinode] hello from B"

    tools_a = (await on_a.rpc("tools/list"))["result"]["tools"]
    tools_b = (await on_b.rpc("tools/list"))["result"]["tools"]
    assert tools_a == tools_b
    names = {tool["name"] for tool in tools_a}
    assert {"echo", "replayLastEcho", "sendNotifications", "requestSampling", "slowEcho"} <= names


async def test_a_change_made_on_b_is_met_by_the_next_call_on_a(cluster: Cluster):
    """Node A runs a blind tool's call on the record it read last; a fault profile set on B
    since must still apply to A's next call (A's commit sees the change and runs the call
    again on the fresh record)."""
    on_a = await cluster.initialize(cluster.a)
    on_b = on(on_a, cluster.b)
    assert (await on_a.tool_text("echo", {"message": "warm"})).endswith("warm")
    assert (await on_a.tool_text("echo", {"message": "cached"})).endswith("cached")
    set_on_b = await on_b.rpc(
        "tools/call", {"name": "setFaults", "arguments": {"seed": 7, "toolError": {"rate": 1}}}
    )
    assert "error" not in set_on_b, set_on_b
    faulted = (await on_a.rpc("tools/call", {"name": "echo", "arguments": {"message": "after"}}))["result"]
    assert faulted.get("isError") is True, faulted
    cleared = await on_b.rpc("tools/call", {"name": "setFaults", "arguments": {"clear": True}})
    assert "error" not in cleared, cleared
    assert (await on_a.tool_text("echo", {"message": "clean"})).endswith("clean")
    assert (
        await on_b.tool_text("replayLastEcho")
        == f"[REPLAY - Session {on_a.session_id[:8]}... from multinode] clean"
    )


# --- 2. The GET stream across nodes ------------------------------------------------------------------


async def test_notifications_sent_on_b_reach_the_get_stream_held_by_a(cluster: Cluster):
    on_a = await cluster.initialize(cluster.a)
    on_b = on(on_a, cluster.b)
    async with open_get(on_a) as (response, stream):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0].strip() == SSE
        await stream.next(PROMPTLY)  # priming event or keep-alive: the stream is live

        text = await on_b.tool_text(
            "sendNotifications", {"count": 5, "message": "via-B", "target": "session", "interval": 0.05}
        )
        assert text == "5 notifications queued on the session's GET stream"
        messages = await read_messages(stream, 5)
        assert log_data(messages) == [f"via-B {n}/5" for n in range(1, 6)]
        carrying = [item for item in stream.items if item.message is not None]
        ids = [event_seq(item.id) for item in carrying]
        assert len({name for name, _ in ids}) == 1, ids
        seqs = [seq for _, seq in ids]
        assert seqs == sorted(set(seqs)), f"event ids not increasing: {ids}"

        # A GET on B takes the session's stream over: A's ends, B's gets what comes next.
        async with open_get(on_b) as (response_b, stream_b):
            assert response_b.status_code == 200
            started = time.monotonic()
            rest = await stream.wait_end(PROMPTLY)
            assert time.monotonic() - started < PROMPTLY
            assert [item.message for item in rest if item.message is not None] == []

            await on_a.tool_text("sendNotifications", {"count": 2, "message": "to-B", "target": "session"})
            assert log_data(await read_messages(stream_b, 2)) == ["to-B 1/2", "to-B 2/2"]
            assert await quiet(stream_b) == []
            assert not stream_b.ended


# --- 3. Sampling: asked on A, answered on B --------------------------------------------------------------


async def test_a_sampling_request_asked_on_a_is_answered_by_a_post_to_b(cluster: Cluster):
    on_a = await cluster.initialize(cluster.a, capabilities={"sampling": {}})
    on_b = on(on_a, cluster.b)
    call_id = next(on_a._ids)
    call = {
        "jsonrpc": "2.0",
        "id": call_id,
        "method": "tools/call",
        "params": {"name": "requestSampling", "arguments": {"prompt": "2+2?", "timeout": 20}},
    }
    async with open_stream(
        cluster.a.http, "POST", "/mcp", content=orjson.dumps(call), headers=on_a.headers(Accept=ACCEPT_BOTH)
    ) as (response, stream):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0].strip() == SSE
        assert response.headers["cache-control"] == "no-cache, no-transform"

        request = await next_message(stream)
        assert request["method"] == "sampling/createMessage", request
        assert request["params"]["messages"][0]["content"] == {"type": "text", "text": "2+2?"}
        answer = {
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": {
                "role": "assistant",
                "content": {"type": "text", "text": "4"},
                "model": "node-b-model",
            },
        }
        assert_valid(answer, "CreateMessageResult")
        posted = await on_b.post(answer)
        assert posted.status_code == 202, posted.text
        assert posted.content == b""

        final = await next_message(stream, 10)
        assert final["id"] == call_id, final
        assert_valid(final, "CallToolResult")
        assert final["result"].get("isError") is not True, final
        assert text_of(final["result"]) == "Sampling result from model node-b-model: 4"
        rest = await stream.wait_end(PROMPTLY)
        assert [item.message for item in rest if item.message is not None] == []


# --- 4. Tasks --------------------------------------------------------------------------------------------


async def test_a_task_started_on_a_is_followed_fetched_and_cancelled_on_b(cluster: Cluster):
    on_a = await cluster.initialize(cluster.a)
    on_b = on(on_a, cluster.b)

    task = await start_task(on_a, "tasked", 1)
    task_id = task["taskId"]
    got = await on_b.rpc("tasks/get", {"taskId": task_id})
    assert got["result"]["taskId"] == task_id
    assert got["result"]["status"] == "working"

    started = time.monotonic()
    payload = await on_b.rpc("tasks/result", {"taskId": task_id})
    assert_valid(payload, "GetTaskPayloadResult")
    assert_valid(payload, "CallToolResult")
    assert text_of(payload["result"]) == "tasked"
    assert payload["result"]["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task_id}
    assert time.monotonic() - started < 10

    listed = (await on_a.rpc("tasks/list"))["result"]["tasks"]
    assert [(t["taskId"], t["status"]) for t in listed] == [(task_id, "completed")]

    # Another task, running on A, cancelled on B; A sees it cancelled, and its late result
    # (the tool on A is not stopped by B) does not bring it back.
    other = await start_task(on_a, "never", 2)
    cancelled = await on_b.rpc("tasks/cancel", {"taskId": other["taskId"]})
    assert cancelled["result"]["taskId"] == other["taskId"]
    assert cancelled["result"]["status"] == "cancelled"
    seen_on_a = await on_a.rpc("tasks/get", {"taskId": other["taskId"]})
    assert seen_on_a["result"]["status"] == "cancelled"

    await asyncio.sleep(2.5)
    later = await on_a.rpc("tasks/get", {"taskId": other["taskId"]})
    assert later["result"]["status"] == "cancelled", later
    no_result = await on_b.rpc("tasks/result", {"taskId": other["taskId"]})
    assert no_result["error"]["code"] == -32602, no_result
    statuses = {t["taskId"]: t["status"] for t in (await on_b.rpc("tasks/list"))["result"]["tasks"]}
    assert statuses == {task_id: "completed", other["taskId"]: "cancelled"}


# --- 5. Resuming a request stream on another node ---------------------------------------------------------


async def test_a_stream_dropped_on_a_is_resumed_on_b_with_last_event_id(cluster: Cluster):
    on_a = await cluster.initialize(cluster.a)
    on_b = on(on_a, cluster.b)

    dropped = await on_a.request("tools/call", {"name": "dropStream", "arguments": {"delay": 0.5}})
    assert dropped.status_code == 200, dropped.text
    assert dropped.headers["content-type"].split(";")[0].strip() == SSE
    events = parse_sse(dropped.text)
    assert events, dropped.text
    assert all(not event.data.strip() for event in events), f"a message came before the drop: {events}"
    # The priming event (an id to resume from), then the hang-up: a bare retry interval.
    assert events[0].id and events[0].retry == 1000, events
    assert events[-1].retry == 1000 and events[-1].id is None, events
    last = [event.id for event in events if event.id][-1]
    event_seq(last)

    resumed = await cluster.b.http.get(on_b.path, headers=get_headers(on_b, **{"Last-Event-ID": last}))
    assert resumed.status_code == 200, resumed.text
    assert resumed.headers["content-type"].split(";")[0].strip() == SSE
    messages = messages_of(resumed)
    assert len(messages) == 1, messages
    [result] = messages
    assert_valid(result, "CallToolResult")
    assert text_of(result["result"]) == "This result was delivered after the stream was dropped and resumed."
    carrying = [event for event in parse_sse(resumed.text) if event.data.strip()]
    assert event_seq(carrying[0].id)[0] == event_seq(last)[0]
    assert event_seq(carrying[0].id)[1] > event_seq(last)[1]


# --- 6. DELETE on B ----------------------------------------------------------------------------------------


async def test_delete_on_b_ends_the_get_stream_open_on_a_and_both_forget_the_session(cluster: Cluster):
    on_a = await cluster.initialize(cluster.a)
    on_b = on(on_a, cluster.b)
    async with open_get(on_a) as (response, stream):
        assert response.status_code == 200
        await stream.next(PROMPTLY)
        deleted = await cluster.b.http.delete(on_b.path, headers=on_b.headers())
        assert deleted.status_code == 204, deleted.text
        started = time.monotonic()
        rest = await stream.wait_end(PROMPTLY)
        assert time.monotonic() - started < PROMPTLY
        assert [item.message for item in rest if item.message is not None] == []
    await assert_gone(on_a, cluster.a, cluster.b)


# --- 7. Expiry ----------------------------------------------------------------------------------------------


async def test_an_idle_session_expires_on_every_node_and_the_sweep_command_runs(
    server_factory,
    redis_url: str,
    tmp_path: Path,
):
    prefix = f"mn{secrets.token_hex(4)}"
    env = {
        "REDIS_URL": redis_url,
        "MCP_REDIS_PREFIX": prefix,
        "MCP_SESSION_TIMEOUT": 1,
        "MCP_SWEEP_INTERVAL": 0.3,
        "MCP_KEEPALIVE_INTERVAL": 0.3,
    }
    server_a, server_b = server_factory(**env), server_factory(**env)
    async with (
        httpx.AsyncClient(base_url=server_a.url, timeout=HTTP_TIMEOUT) as http_a,
        httpx.AsyncClient(base_url=server_b.url, timeout=HTTP_TIMEOUT) as http_b,
    ):
        a, b = Node("A", server_a, http_a), Node("B", server_b, http_b)
        on_a = McpClient(http_a)
        await on_a.initialize(client_name="multinode")
        assert (await on(on_a, b).request("ping")).status_code == 200
        for node in (a, b):
            assert (await node.http.get("/health")).json()["sessions"] == 1

        await asyncio.sleep(2.0)
        for node in (a, b):
            health = await node.http.get("/health")
            assert health.status_code == 200
            assert health.json()["sessions"] == 0, f"node {node.name}: {health.text}"
        await assert_gone(on_a, a, b)
    server_a.stop()
    server_b.stop()

    # A session left behind by nodes that are gone: only the command can sweep it. It is
    # written after both nodes stopped, so no node's own sweeper can race the command.
    store = RedisSessionStore(timeout=1, url=redis_url, prefix=prefix)
    try:
        await store.create(
            protocol_version="2025-11-25",
            client_info={"name": "leftover", "version": "1"},
            client_capabilities={},
            client_addr="127.0.0.1",
        )
    finally:
        await store.close()
    await asyncio.sleep(1.5)

    command_env = server_env(
        tmp_path / "sweep",
        {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": prefix, "MCP_SESSION_TIMEOUT": "1"},
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "sweep_sessions"],
        cwd=REPO,
        env=command_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.stdout.strip().splitlines()[-1] == "Done! Removed 1 expired session(s).", done.stdout

    again = subprocess.run(
        [sys.executable, "manage.py", "sweep_sessions"],
        cwd=REPO,
        env=command_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert again.returncode == 0, f"stdout:\n{again.stdout}\nstderr:\n{again.stderr}"
    assert again.stdout.strip().splitlines()[-1] == "Done! Removed 0 expired session(s).", again.stdout


# --- 8. Without Redis ---------------------------------------------------------------------------------------


async def test_memory_servers_share_nothing_which_is_why_redis_is_needed(server_factory):
    first, second = server_factory(), server_factory()
    async with (
        httpx.AsyncClient(base_url=first.url, timeout=HTTP_TIMEOUT) as http_1,
        httpx.AsyncClient(base_url=second.url, timeout=HTTP_TIMEOUT) as http_2,
    ):
        for http in (http_1, http_2):
            assert (await http.get("/health")).json()["store"]["backend"] == "memory"
        client = McpClient(http_1)
        await client.initialize(client_name="multinode")
        assert (await client.tool_text("echo", {"message": "here"})).endswith("here")

        elsewhere = McpClient(
            http_2, session_id=client.session_id, protocol=client.protocol, _ids=client._ids
        )
        assert_session_not_found(await elsewhere.request("tools/list"))
        assert_session_not_found(await http_2.get("/mcp", headers=get_headers(elsewhere)))
        # The session is alive and well where it was made.
        assert (await client.rpc("ping"))["result"] == {}
        assert (await client.tool_text("replayLastEcho")).endswith("here")
