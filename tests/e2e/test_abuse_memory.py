"""The abuses that grew the process, run against the console script: RSS before and after.

10,000-header requests (refused at the HTTP layer: 431), 100-element batches of large answers
(bounded by the response budget: the body stays within MCP_MAX_RESPONSE_BYTES), and 250
subscriptions/listen streams from one address (MCP_MAX_LISTEN_PER_CLIENT open, the rest 429).
Before the fixes, the headers grew the process by 78 MB and one batch by 126 MB. /health
answers between and during every abuse.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import LiveServer, console_script_argv, start_server

pytestmark = pytest.mark.e2e

MAX_RESPONSE = 2 * 1024 * 1024
LISTEN_CAP = 16
# What the process may keep after all of it (allocator slack, caches warmed by the first calls).
ALLOWED_GROWTH = 40 * 1024 * 1024
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "MCP_MAX_RESPONSE_BYTES": str(MAX_RESPONSE),
        "MCP_MAX_LISTEN_PER_CLIENT": str(LISTEN_CAP),
        "MCP_KEEPALIVE_INTERVAL": "1",
    }
    live = start_server(tmp_path_factory.mktemp("abuse"), env, argv=console_script_argv)
    yield live
    live.stop()


def rss(server: LiveServer) -> int:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def healthy(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200


def header_flood(server: LiveServer) -> bytes:
    head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
    head += b"".join(b"X-Flood-%d: %s\r\n" % (i, b"v" * 20) for i in range(10_000)) + b"\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        try:
            connection.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return connection.recv(200)


def batch_session(client: httpx.Client) -> dict[str, str]:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-03-26",
            "capabilities": {},
            "clientInfo": {"name": "a", "version": "1"},
        },
    }
    answer = client.post("/mcp", json=init, headers={"Accept": "application/json, text/event-stream"})
    headers = {
        "Accept": "application/json, text/event-stream",
        "Mcp-Session-Id": answer.headers["mcp-session-id"],
        "MCP-Protocol-Version": "2025-03-26",
    }
    client.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


def batch_of(tool: str, arguments: dict[str, int]) -> list[dict[str, object]]:
    return [
        {
            "jsonrpc": "2.0",
            "id": next(_ids),
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }
        for _ in range(100)
    ]


async def listen_flood(server: LiveServer) -> list[int]:
    """250 concurrent subscriptions/listen streams from one address: their statuses, /health
    checked while the accepted ones are open."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "subscriptions/listen",
        "params": {
            "notifications": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "a", "version": "1"},
            },
        },
    }
    headers = {
        "Accept": "text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "subscriptions/listen",
    }
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
        opened = [client.stream("POST", "/mcp", json=body, headers=headers) for _ in range(250)]
        responses = await asyncio.gather(*(manager.__aenter__() for manager in opened))
        statuses = [response.status_code for response in responses]
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as probe:
            assert (await probe.get("/health")).status_code == 200
        await asyncio.gather(*(manager.__aexit__(None, None, None) for manager in opened))
    return statuses


def test_header_batch_and_listen_floods_leave_the_process_bounded(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        headers = batch_session(client)
        client.post("/mcp", json=batch_of("largeText", {"bytes": 1000})[:2], headers=headers)  # warm up
        before = rss(server)

        for _ in range(50):
            assert header_flood(server).startswith(b"HTTP/1.1 431 ")
        healthy(server)

        for tool, arguments in (("largeText", {"bytes": 200_000}), ("manyBlocks", {"count": 10_000})):
            for _ in range(3):
                answer = client.post("/mcp", json=batch_of(tool, arguments), headers=headers)
                assert answer.status_code == 200
                assert len(answer.content) <= MAX_RESPONSE
                items = answer.json()
                assert len(items) == 100 and "Response too large" in items[-1]["error"]["message"]
                healthy(server)

    statuses = asyncio.run(listen_flood(server))
    assert statuses.count(200) == LISTEN_CAP and statuses.count(429) == 250 - LISTEN_CAP
    healthy(server)

    after = rss(server)
    print(f"RSS {before / 2**20:.1f} MB -> {after / 2**20:.1f} MB")
    assert after - before < ALLOWED_GROWTH, f"RSS {before / 2**20:.0f} MB -> {after / 2**20:.0f} MB"
