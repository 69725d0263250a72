"""The README's gunicorn deployment, run for real: two uvicorn workers under gunicorn on a private
Redis serve one session whichever worker a connection lands on, refuse an oversized request head
as the console script does (431), and SIGTERM drains them (open streams end with a retry hint,
the master exits, the session stays in Redis)."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import HOST, HTTP_TIMEOUT, exchange, open_get, request_head, start_server
from tests.support.client import McpClient

pytestmark = pytest.mark.e2e

CALLS = 20
PATIENCE = 20.0


def gunicorn_argv(port: int) -> list[str]:
    return [
        str(Path(sys.executable).parent / "gunicorn"),
        "echoserver.asgi:application",
        "-k",
        "echoserver.gunicorn_worker.Worker",
        "-w",
        "2",
        "-b",
        f"{HOST}:{port}",
        "--graceful-timeout",
        "10",
    ]


async def test_two_gunicorn_workers_share_sessions_and_drain_on_sigterm(
    tmp_path: Path,
    redis_url: str,
):
    env = {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": f"gunicorn{secrets.token_hex(4)}"}
    server = start_server(tmp_path, env, argv=gunicorn_argv)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
            client = McpClient(http)
            await client.initialize(client_name="gunicorn")
        served_by: set[str] = set()
        for n in range(CALLS):
            # A new connection each time: the kernel hands it to either worker.
            async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
                own = McpClient(http, session_id=client.session_id, protocol=client.protocol)
                assert (await own.tool_text("echo", {"message": f"call {n}"})).endswith(f"call {n}")
                served_by.add((await http.get("/status.json")).json()["answered_by"])
        # The console script's HTTP settings: 200 header lines (over MCP_MAX_HEADERS) refused
        # before the application, no server header.
        refused = exchange(server, request_head([b"X-H-%d: v\r\n" % i for i in range(200)]))
        served = exchange(server, request_head([]))
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
            own = McpClient(http, session_id=client.session_id, protocol=client.protocol)
            assert (await own.tool_text("replayLastEcho")).endswith(f"call {CALLS - 1}")
            async with open_get(own) as (response, stream):
                assert response.status_code == 200
                await stream.next(PATIENCE)
                server.process.send_signal(signal.SIGTERM)
                rest = await stream.wait_end(PATIENCE)
                assert rest and rest[-1].retry is not None, rest
        try:
            assert server.process.wait(PATIENCE) == 0
        except subprocess.TimeoutExpired:
            pytest.fail(f"gunicorn did not exit after SIGTERM:\n{server.log()}")
        assert len(served_by) == 2, f"one worker answered every connection: {served_by}"
        assert refused.startswith(b"HTTP/1.1 431 "), refused[:200]
        assert not served.lower().count(b"\r\nserver:"), served[:400]
    finally:
        server.stop()
    log = server.log()
    assert "draining" in log and "Traceback" not in log, log
    # The session outlived the workers: another process on the same Redis serves it.
    again = start_server(tmp_path / "again", env)
    try:
        async with httpx.AsyncClient(base_url=again.url, timeout=HTTP_TIMEOUT) as http:
            own = McpClient(http, session_id=client.session_id, protocol=client.protocol)
            assert (await own.tool_text("replayLastEcho")).endswith(f"call {CALLS - 1}")
    finally:
        again.stop()
