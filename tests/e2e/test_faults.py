"""Fault profiles against the real server: stream faults on real sockets, the same seed in two
server runs, and a profile set through node A applying on node B (Redis).

Every wait is bounded. The shared server sends keep-alives every 0.3 s.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import orjson
import pytest

from mcp.faults.draws import sequence, summary
from mcp.faults.profile import normalize
from tests.e2e.cluster import Cluster, on
from tests.e2e.live import HTTP_TIMEOUT, SSE, SseStream, open_get, open_stream
from tests.support.client import McpClient

pytestmark = pytest.mark.e2e

PROMPTLY = 5.0


async def recorded_marks(client: McpClient, http_method: str) -> list[list[str]]:
    """The marks of the session's recorded ``http_method`` exchanges (JSON-lines export)."""
    result = await client.call_tool("exportTraffic", {"format": "jsonl"})
    lines = [orjson.loads(line) for line in result["content"][0]["resource"]["text"].splitlines()]
    return [line["marks"] for line in lines if line["http"] == http_method]


async def wait_marked(client: McpClient, http_method: str, mark: str) -> list[list[str]]:
    """Poll (bounded) until a recorded exchange carries ``mark``: a stream is recorded when it ends."""
    deadline = time.monotonic() + PROMPTLY
    while True:
        found = await recorded_marks(client, http_method)
        if any(mark in marks for marks in found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


async def set_faults(client: McpClient, **profile: Any) -> dict[str, Any]:
    result = await client.call_tool("setFaults", profile)
    assert "isError" not in result, result
    return result["structuredContent"]


def notifications_call(client: McpClient, count: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": f"notify-{time.monotonic_ns()}",
        "method": "tools/call",
        "params": {"name": "sendNotifications", "arguments": {"count": count, "target": "request"}},
    }


def open_post(client: McpClient, body: dict[str, Any]):
    return open_stream(client.http, "POST", client.path, json=body, headers=client.headers(Accept=SSE))


async def drain(stream: SseStream, timeout: float = PROMPTLY) -> list[Any]:
    """Every item until the server ends the stream."""
    return await stream.wait_end(timeout)


def injected(metrics_text: str, kind: str) -> float:
    found = re.search(rf'^mcp_faults_injected_total\{{kind="{kind}"\}} (\S+)$', metrics_text, re.M)
    return float(found.group(1)) if found else 0.0


async def metric(http: httpx.AsyncClient, kind: str) -> float:
    return injected((await http.get("/metrics")).text, kind)


# --- Stream faults --------------------------------------------------------------------------------


async def test_a_post_stream_dropped_after_n_events_resumes_with_last_event_id(session: McpClient):
    before = await metric(session.http, "drop_stream")
    await set_faults(session, seed=1, dropStream={"afterEvents": 2, "streams": "post"})
    async with open_post(session, notifications_call(session, 4)) as (response, stream):
        assert response.status_code == 200
        items = await drain(stream)
    messages = [item for item in items if item.message is not None]
    assert [m.message["params"]["data"] for m in messages] == ["notification 1/4", "notification 2/4"]
    assert items[0].id and items[0].data == ""  # the priming event
    assert items[-1].retry is not None and items[-1].data is None  # the hang-up hint
    last_id = messages[-1].id
    assert last_id
    async with open_get(session, **{"Last-Event-ID": last_id}) as (resumed, rest):
        assert resumed.status_code == 200
        tail = [item.message for item in await drain(rest) if item.message is not None]
    assert [m.get("params", {}).get("data") for m in tail[:2]] == ["notification 3/4", "notification 4/4"]
    assert "result" in tail[-1] and "4 notifications sent" in tail[-1]["result"]["content"][0]["text"]
    assert await metric(session.http, "drop_stream") == before + 1
    assert ["drop_stream"] in await wait_marked(session, "POST", "drop_stream")


async def test_a_non_resumable_drop_has_no_ids_and_no_priming_event(session: McpClient):
    await set_faults(session, seed=1, dropStream={"afterEvents": 1, "resumable": False})
    async with open_post(session, notifications_call(session, 3)) as (response, stream):
        assert response.status_code == 200
        items = await drain(stream)
    assert [item.message["params"]["data"] for item in items if item.message] == ["notification 1/3"]
    assert all(item.id is None for item in items)
    assert all(item.data for item in items if not item.is_comment)  # no empty-data priming event
    assert all(item.retry is None for item in items)
    assert ["drop_stream"] in await wait_marked(session, "POST", "drop_stream")


async def test_a_get_stream_dropped_after_n_events(session: McpClient):
    await set_faults(session, seed=1, dropStream={"afterEvents": 2, "streams": "get"})
    async with open_get(session) as (response, stream):
        assert response.status_code == 200
        await stream.next(PROMPTLY)  # priming or keep-alive: the stream is live
        await session.tool_text("sendNotifications", {"count": 4, "target": "session"})
        items = await drain(stream)
    data = [item.message["params"]["data"] for item in items if item.message]
    assert data == ["notification 1/4", "notification 2/4"]
    assert items[-1].retry is not None
    assert ["drop_stream"] in await wait_marked(session, "GET", "drop_stream")


async def test_an_event_delivered_twice_keeps_its_id(session: McpClient):
    before = await metric(session.http, "duplicate_event")
    await set_faults(session, seed=1, duplicateEvent={"event": 2})
    async with open_post(session, notifications_call(session, 3)) as (_, stream):
        items = [item for item in await drain(stream) if item.message is not None]
    data = [item.message.get("params", {}).get("data") for item in items]
    assert data[:4] == ["notification 1/3", "notification 2/3", "notification 2/3", "notification 3/3"]
    assert items[1].id == items[2].id and items[1].id is not None
    assert "result" in items[-1].message
    assert await metric(session.http, "duplicate_event") == before + 1
    assert ["duplicate_event"] in await wait_marked(session, "POST", "duplicate_event")


async def keepalive_times(client: McpClient, seconds: float) -> list[float]:
    async with open_get(client) as (_, stream):
        started = time.monotonic()
        times: list[float] = []
        while (left := started + seconds - time.monotonic()) > 0:
            try:
                item = await stream.next(left)
            except TimeoutError:
                break
            if item.is_comment:
                times.append(item.at - started)
    return times


async def test_keepalives_can_be_silenced_or_slowed(session: McpClient):
    assert len(await keepalive_times(session, 1.5)) >= 3  # the server's 0.3 s interval
    await set_faults(session, seed=1, keepAlive={"mode": "none"})
    assert await keepalive_times(session, 1.5) == []
    assert ["keepalive"] in await wait_marked(session, "GET", "keepalive")
    await set_faults(session, seed=1, keepAlive={"mode": "slow", "intervalSeconds": 1})
    slow = await keepalive_times(session, 2.7)
    assert 1 <= len(slow) <= 2
    assert all(b - a >= 0.95 for a, b in zip([0.0, *slow], slow, strict=False))


async def test_a_list_changed_burst_reaches_the_get_stream(session: McpClient):
    async with open_get(session) as (_, stream):
        await stream.next(PROMPTLY)
        await set_faults(session, seed=1, listChangedBurst={"count": 30, "kind": "tools"})
        assert "result" in await session.rpc("ping")
        burst = [await stream.next_message(PROMPTLY) for _ in range(30)]
    assert {message["method"] for message in burst} == {"notifications/tools/list_changed"}
    assert ["list_changed_burst"] in await recorded_marks(session, "POST")


# --- Reproducible across runs and nodes -----------------------------------------------------------

MIXED = {
    "seed": 77,
    "httpError": {"rate": 0.25, "status": 503},
    "toolError": {"rate": 0.25},
    "oversized": {"bytes": 20_000, "rate": 0.2},
}


async def outcomes(client: McpClient, count: int) -> list[str]:
    """What a client notices of each of ``count`` echo calls: a status, an error, a size."""
    seen: list[str] = []
    for n in range(count):
        response = await client.request("tools/call", {"name": "echo", "arguments": {"message": f"m{n}"}})
        if response.status_code != 200:
            seen.append(f"http {response.status_code}")
        elif response.json()["result"].get("isError"):
            seen.append("isError")
        else:
            seen.append("big" if len(response.content) > 10_000 else "ok")
    return seen


def expected(count: int) -> list[str]:
    """The same sequence computed from the seed, without any server."""
    found: list[str] = []
    for kinds in (summary(d) for d in sequence(normalize(MIXED, max_bytes=10**7), count)):
        if "http_503" in kinds:
            found.append("http 503")
        elif "tool_error" in kinds:
            found.append("isError")
        else:
            found.append("big" if "oversized" in kinds else "ok")
    return found


async def test_the_same_seed_gives_the_same_sequence_in_two_server_runs(server_factory):
    runs = []
    for _ in range(2):
        server = server_factory()
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
            client = McpClient(http)
            await client.initialize(send_initialized=False)
            await set_faults(client, **MIXED)
            runs.append(await outcomes(client, 40))
        server.stop()
    assert runs[0] == runs[1] == expected(40)
    assert {"ok", "http 503", "isError", "big"} <= set(runs[0])


async def test_a_profile_set_through_node_a_applies_on_node_b(cluster: Cluster):
    on_a = await cluster.initialize(cluster.a, send_initialized=False)
    on_b = on(on_a, cluster.b)
    await set_faults(on_a, **MIXED)
    # Alternate nodes: one sequence, continued by whichever node serves the request.
    seen: list[str] = []
    for n in range(30):
        seen += await outcomes(on_a if n % 2 else on_b, 1)
    assert seen == expected(30)
    await set_faults(on_a, seed=1, expire={})
    gone = await on_b.request("ping")
    assert gone.status_code == 404 and gone.headers["mcp-session-id"] == on_a.session_id
    assert (await on_a.request("ping")).status_code == 404


async def test_faults_stay_in_their_own_session(http: httpx.AsyncClient, session: McpClient):
    other = McpClient(http)
    await other.initialize()
    await set_faults(session, seed=1, httpError={"rate": 1}, dropStream={"afterEvents": 0})
    assert await outcomes(other, 5) == ["ok"] * 5
    async with open_post(other, notifications_call(other, 2)) as (_, stream):
        items = [item.message for item in await drain(stream) if item.message is not None]
    assert "result" in items[-1]
    await set_faults(session, clear=True)
    await asyncio.sleep(0)
