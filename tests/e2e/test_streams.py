"""SSE behaviour of /mcp against the real server under uvicorn.

The in-process client of tests/ buffers whole bodies, so it cannot see what a stream does
over time; these tests read real sockets, item by item, each wait bounded. The shared
server sends keep-alives every 0.3 s. Messages are put on a session's GET stream with the
diagnostics tool ``sendNotifications`` (target "session"), whose notifications carry
``data: "<message> <n>/<count>"``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.e2e.live import HTTP_TIMEOUT, SSE, SseStream, get_headers, open_get
from tests.support.client import McpClient, messages_of, parse_sse

pytestmark = pytest.mark.e2e


# Long enough for several 0.3 s keep-alive rounds: a message that was going to arrive would have.
QUIET = 1.2
PROMPTLY = 3.0


async def notify_session(client: McpClient, count: int, message: str, **args: Any) -> str:
    text = await client.tool_text(
        "sendNotifications", {"count": count, "message": message, "target": "session", **args}
    )
    assert f"{count} notifications" in text, text
    return text


def log_data(messages: list[dict[str, Any]]) -> list[str]:
    """The ``data`` of each notifications/message, asserting nothing else is there."""
    for message in messages:
        assert message.get("method") == "notifications/message", message
        assert "id" not in message, message
    return [message["params"]["data"] for message in messages]


async def read_messages(stream: SseStream, count: int, timeout: float = PROMPTLY) -> list[dict[str, Any]]:
    return [await stream.next_message(timeout) for _ in range(count)]


async def settle(stream: SseStream) -> None:
    """Wait for a keep-alive: the server's writer has moved past every event sent so far."""
    async with asyncio.timeout(PROMPTLY):
        while not (await stream.next(PROMPTLY)).is_comment:
            pass


# --- GET: headers and refusals -------------------------------------------------------------------


async def test_get_stream_is_event_stream_with_no_buffering_headers(session: McpClient):
    async with open_get(session) as (response, stream):
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0].strip() == SSE
        assert response.headers["cache-control"] == "no-cache, no-transform"
        assert response.headers["x-accel-buffering"] == "no"
        assert "content-length" not in response.headers
        # The stream is open and live: something (priming event or keep-alive) arrives.
        await stream.next(PROMPTLY)
        assert not stream.ended


async def test_idle_get_stream_sends_keepalive_comments_at_the_configured_interval(server_factory):
    server = server_factory(MCP_KEEPALIVE_INTERVAL=0.5)
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
        client = McpClient(http)
        await client.initialize()
        async with open_get(client) as (response, stream):
            assert response.status_code == 200
            started = time.monotonic()
            keepalives: list[float] = []
            async with asyncio.timeout(10):
                while len(keepalives) < 4:
                    item = await stream.next(3)
                    if item.is_comment:
                        assert item.comments == ["keep-alive"], item
                        keepalives.append(item.at)
                    else:
                        assert item.message is None, f"an idle stream carried a message: {item}"
    gaps = [b - a for a, b in zip([started, *keepalives], keepalives, strict=False)]
    # Nominally 0.5 s each; generous bounds for a loaded CI machine, far below the 15 s default.
    assert all(0.3 <= gap <= 1.5 for gap in gaps[1:]), gaps
    assert gaps[0] <= 1.5, gaps


async def test_get_without_accepting_event_stream_is_406(session: McpClient):
    response = await session.http.get(session.path, headers=get_headers(session, Accept="application/json"))
    assert response.status_code == 406
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["message"]


async def test_get_without_session_is_400(http: httpx.AsyncClient):
    response = await http.get("/mcp", headers={"Accept": SSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["message"]


async def test_get_with_unknown_session_is_404(http: httpx.AsyncClient):
    response = await http.get("/mcp", headers={"Accept": SSE, "Mcp-Session-Id": "0" * 32})
    assert response.status_code == 404


# --- Session end ----------------------------------------------------------------------------------


async def test_delete_ends_an_open_get_stream_promptly_and_the_session_is_gone(session: McpClient):
    async with open_get(session) as (response, stream):
        assert response.status_code == 200
        await stream.next(PROMPTLY)
        deleted = await session.http.delete(session.path, headers=session.headers())
        assert deleted.status_code == 204
        started = time.monotonic()
        rest = await stream.wait_end(PROMPTLY)
        assert time.monotonic() - started < PROMPTLY
        assert not [item.message for item in rest if item.message is not None]

    again = await session.http.get(session.path, headers=get_headers(session))
    assert again.status_code == 404
    post = await session.request("tools/list")
    assert post.status_code == 404
    assert (await session.http.delete(session.path, headers=session.headers())).status_code == 404


# --- What goes on the GET stream --------------------------------------------------------------------


async def test_messages_queued_while_no_stream_is_open_come_first_then_live_ones(session: McpClient):
    await notify_session(session, 3, "queued")
    async with open_get(session) as (response, stream):
        assert response.status_code == 200
        assert log_data(await read_messages(stream, 3)) == ["queued 1/3", "queued 2/3", "queued 3/3"]
        # Live: queued after the stream opened, delivered as they come.
        await notify_session(session, 2, "live", interval=0.2)
        assert log_data(await read_messages(stream, 2)) == ["live 1/2", "live 2/2"]
        await settle(stream)

    # Drained: a new GET stream does not get them again.
    async with open_get(session) as (response, stream):
        assert response.status_code == 200
        assert await stream.messages_for(QUIET) == []
        await notify_session(session, 1, "after")
        assert log_data(await read_messages(stream, 1)) == ["after 1/1"]


async def test_responses_to_posted_requests_never_appear_on_the_get_stream(session: McpClient):
    async with open_get(session) as (response, stream):
        assert response.status_code == 200
        # A JSON answer, an SSE answer with notifications before its result, and a plain ping.
        echoed = await session.request("tools/call", {"name": "echo", "arguments": {"message": "once"}})
        assert echoed.status_code == 200
        streamed = await session.request(
            "tools/call",
            {"name": "sendNotifications", "arguments": {"count": 2, "target": "request", "message": "r"}},
        )
        assert streamed.status_code == 200
        assert streamed.headers["content-type"].startswith(SSE)
        posted = messages_of(streamed)
        assert len([m for m in posted if "id" in m and "result" in m]) == 1, posted
        pinged = await session.request("ping")
        assert pinged.status_code == 200

        # A marker through the session stream: anything misrouted before it would come first.
        await notify_session(session, 1, "marker")
        arrived = [await stream.next_message(PROMPTLY)]
        while arrived[-1].get("params", {}).get("data") != "marker 1/1":
            arrived.append(await stream.next_message(PROMPTLY))
        arrived += await stream.messages_for(QUIET)
    assert all("id" not in m for m in arrived), f"responses leaked onto the GET stream: {arrived}"
    assert log_data(arrived) == ["marker 1/1"], arrived


async def test_a_second_get_stream_replaces_the_first(session: McpClient):
    async with open_get(session) as (first_response, first):
        assert first_response.status_code == 200
        await first.next(PROMPTLY)
        async with open_get(session) as (second_response, second):
            assert second_response.status_code == 200
            rest = await first.wait_end(PROMPTLY)
            assert [item.message for item in rest if item.message is not None] == []
            await notify_session(session, 2, "to-second")
            assert log_data(await read_messages(second, 2)) == ["to-second 1/2", "to-second 2/2"]
            assert not second.ended


# --- POST: where a request's own messages go -----------------------------------------------------------


async def test_request_targeted_notifications_come_on_the_post_stream_before_the_result(session: McpClient):
    async with open_get(session) as (_, get_stream):
        response = await session.request(
            "tools/call",
            {"name": "sendNotifications", "arguments": {"count": 3, "target": "request", "level": "warning"}},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(SSE)
        assert response.headers["cache-control"] == "no-cache, no-transform"
        messages = messages_of(response)
        assert log_data(messages[:-1]) == ["notification 1/3", "notification 2/3", "notification 3/3"]
        assert all(m["params"]["level"] == "warning" for m in messages[:-1])
        final = messages[-1]
        assert "3 notifications sent on this request's stream" in final["result"]["content"][0]["text"]
        assert await get_stream.messages_for(QUIET) == []


async def test_post_accepting_only_json_is_answered_with_json(session: McpClient):
    response = await session.request("tools/list", Accept="application/json")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == "application/json"
    body = response.json()
    assert body["jsonrpc"] == "2.0"
    assert body["id"] is not None
    assert isinstance(body["result"]["tools"], list)


async def test_post_accepting_only_event_stream_is_answered_with_an_event(session: McpClient):
    response = await session.request(
        "tools/call", {"name": "echo", "arguments": {"message": "as-sse"}}, Accept=SSE
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(SSE)
    events = [event for event in parse_sse(response.text) if event.data.strip()]
    assert len(events) == 1, response.text
    answer = events[0].json
    assert answer["jsonrpc"] == "2.0"
    assert answer["result"]["content"][0]["text"].endswith("as-sse")


async def test_session_notifications_are_not_lost_without_a_stream_and_limit_sanity(session: McpClient):
    """The count goes up to 1000; all of them are delivered in order when a stream opens."""
    await notify_session(session, 50, "bulk")
    async with open_get(session) as (_, stream):
        got = log_data(await read_messages(stream, 50))
    assert got == [f"bulk {n}/50" for n in range(1, 51)]


@pytest.mark.parametrize("count", [0, 1001])
async def test_send_notifications_rejects_counts_out_of_range(session: McpClient, count: int):
    response = await session.rpc("tools/call", {"name": "sendNotifications", "arguments": {"count": count}})
    failed = "error" in response or response["result"].get("isError") is True
    assert failed, response


# --- Expiry (MCP_SESSION_TIMEOUT, MCP_SWEEP_INTERVAL) --------------------------------------------------


async def test_an_idle_session_expires_and_is_swept(server_factory):
    server = server_factory(MCP_SESSION_TIMEOUT=1, MCP_SWEEP_INTERVAL=0.2)
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
        client = McpClient(http)
        await client.initialize()
        assert (await http.get("/health")).json()["sessions"] == 1
        await asyncio.sleep(2.0)
        assert (await http.get("/health")).json()["sessions"] == 0
        assert (await client.request("tools/list")).status_code == 404
        assert (await http.get(client.path, headers=get_headers(client))).status_code == 404


async def test_an_open_get_stream_keeps_its_session_alive(server_factory):
    server = server_factory(MCP_SESSION_TIMEOUT=1, MCP_SWEEP_INTERVAL=0.2)
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
        client = McpClient(http)
        await client.initialize()
        async with open_get(client) as (response, stream):
            assert response.status_code == 200
            assert await stream.messages_for(2.5) == []
            assert not stream.ended
            assert (await client.request("ping")).status_code == 200
