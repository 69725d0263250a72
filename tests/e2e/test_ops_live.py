"""The operator side against real processes on a private Redis: /metrics and /status add up
across two worker processes, and SIGTERM drains a node without losing its sessions."""

from __future__ import annotations

import asyncio
import re
import secrets
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import HTTP_TIMEOUT, console_script_argv, open_get, start_server
from tests.support.client import McpClient

pytestmark = pytest.mark.e2e

CALLS = 40
PATIENCE = 20.0


def metric(text: str, name: str, labels: str = "") -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found[1]) if found else 0.0


async def fresh_get(url: str, path: str) -> httpx.Response:
    """On a new connection each time, so the kernel may hand it to either worker."""
    async with httpx.AsyncClient(base_url=url, timeout=HTTP_TIMEOUT) as http:
        return await http.get(path)


async def call_echo(url: str, client: McpClient, n: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=HTTP_TIMEOUT) as http:
        own = McpClient(http, session_id=client.session_id, protocol=client.protocol)
        result = await own.call_tool("echo", {"message": f"call {n}"})
        assert not result.get("isError"), result


async def test_metrics_and_status_add_up_across_two_workers(tmp_path: Path, redis_url: str):
    prefix = f"ops{secrets.token_hex(4)}"
    server = start_server(
        tmp_path,
        {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": prefix, "MCP_STATS_INTERVAL": "0.2"},
        argv=lambda port: [*console_script_argv(port), "--workers", "2"],
    )
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
            client = McpClient(http)
            await client.initialize(client_name="ops-e2e")
        for start in range(0, CALLS, 10):
            await asyncio.gather(*(call_echo(server.url, client, n) for n in range(start, start + 10)))

        metrics = (await fresh_get(server.url, "/metrics")).text
        assert metric(metrics, "mcp_tool_calls_total", 'outcome="ok",tool="echo"') == CALLS
        assert metric(metrics, "mcp_sessions_created_total") == 1
        assert metric(metrics, "mcp_active_sessions") == 1
        assert metric(metrics, "mcp_store_up") == 1

        # Every worker answers the feed with the same figures (read from Redis).
        seen: dict[str, dict] = {}
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while asyncio.get_running_loop().time() < deadline:
            answers = await asyncio.gather(*(fresh_get(server.url, "/status.json") for _ in range(6)))
            for answer in answers:
                feed = answer.json()
                if sum(feed["series"]["tool_calls"]) == CALLS and len(feed["processes"]) == 2:
                    seen[feed["answered_by"]] = feed
            if len(seen) == 2:
                break
            await asyncio.sleep(0.3)
        assert len(seen) == 2, f"not both workers answered with the full figures: {list(seen)}"
        first, second = seen.values()
        for feed in (first, second):
            assert feed["sessions"]["active"] == 1 and feed["sessions"]["created"] == 1
            assert feed["store"]["backend"] == "redis"
            assert sum(p["requests"] for p in feed["processes"]) >= CALLS
        assert first["tool_calls"]["by_tool"].keys() == second["tool_calls"]["by_tool"].keys()
        assert {p["pid"] for p in first["processes"]} == {p["pid"] for p in second["processes"]}
    finally:
        server.stop()


async def test_sigterm_drains_streams_with_a_retry_hint_and_keeps_sessions(
    tmp_path: Path,
    redis_url: str,
):
    env = {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": f"drain{secrets.token_hex(4)}"}
    leaving = start_server(tmp_path / "a", env)
    staying = start_server(tmp_path / "b", env)
    try:
        async with (
            httpx.AsyncClient(base_url=leaving.url, timeout=HTTP_TIMEOUT) as http_a,
            httpx.AsyncClient(base_url=staying.url, timeout=HTTP_TIMEOUT) as http_b,
        ):
            client = McpClient(http_a)
            await client.initialize(client_name="drain")
            await client.call_tool("echo", {"message": "survives"})
            async with open_get(client) as (response, stream):
                assert response.status_code == 200
                first = await stream.next(PATIENCE)
                assert first.retry is not None  # the GET stream states its retry delay at once
                leaving.process.send_signal(signal.SIGTERM)
                rest = await stream.wait_end(PATIENCE)
                assert rest and rest[-1].retry is not None, rest
            try:
                leaving.process.wait(PATIENCE)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the drained process did not exit:\n{leaving.log()}")
            elsewhere = McpClient(http_b, session_id=client.session_id, protocol=client.protocol)
            text = await elsewhere.tool_text("replayLastEcho")
            assert "survives" in text
            assert (await http_b.get("/health")).status_code == 200
    finally:
        leaving.stop()
        staying.stop()
    assert "draining" in leaving.log()
