"""``python -m bench.inproc``: CPU per request of the ASGI application alone, in process.

No server, no sockets: the application is called as uvicorn would call it, with a scripted
``receive`` and a ``send`` that keeps nothing. What it prints is CPU microseconds per
exchange (``time.process_time``, the fastest block of 500), so a change to the hot path can
be weighed in a few seconds without wrk. It is a developer's tool, not the benchmark: the figures leave out
the HTTP server and the network, which ``bash bench/run.sh`` measures with the peers.

    python -m bench.inproc [--scenario call|churn|modern] [-n 5000] [--profile out.pstats]
    [--redis-url redis://127.0.0.1:PORT/0]   (default: the memory store)

Environment settings (MCP_ACCESS_LOG, MCP_TRAFFIC_LOG, ...) apply as in the server.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from typing import Any

CALL = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}'
)
INIT = (
    b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
    b'"capabilities":{},"clientInfo":{"name":"mcp-echo-bench","version":"1.0"}}}'
)
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
MODERN = (
    b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},'
    b'"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},'
    b'"io.modelcontextprotocol/clientInfo":{"name":"mcp-echo-bench","version":"1.0"}}}}'
)


def scope(method: str, headers: dict[str, str], body: bytes = b"") -> dict[str, Any]:
    raw = [
        (b"host", b"127.0.0.1:3000"),
        (b"user-agent", b"wrk"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
    ]
    if body:
        raw.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 3000),
    }


async def exchange(
    app: Any, method: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict, bytes]:
    sent = False
    answer: dict[str, Any] = {"status": 0, "headers": {}, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode().lower(): v.decode() for k, v in message.get("headers", ())}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(scope(method, headers, body), receive, send)
    return answer["status"], answer["headers"], answer["body"]


async def open_session(app: Any) -> str:
    status, headers, body = await exchange(app, "POST", {}, INIT)
    if status != 200:
        raise SystemExit(f"initialize answered {status}: {body[:200]!r}")
    session = headers["mcp-session-id"]
    await exchange(app, "POST", {"Mcp-Session-Id": session}, INITIALIZED)
    return session


async def run(scenario: str, count: int, profile: str | None) -> float:
    from echoserver.asgi import application

    try:
        from mcp.process import lifecycle
    except ImportError:  # a revision from before the layout move (bench.instructions --rev)
        from mcp import lifecycle  # type: ignore[no-redef]

    await lifecycle.startup()
    session = await open_session(application)

    async def once(i: int) -> None:
        if scenario == "call":
            status, _, body = await exchange(application, "POST", {"Mcp-Session-Id": session}, CALL % i)
        elif scenario == "modern":
            headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}
            status, _, body = await exchange(application, "POST", headers, MODERN % i)
        else:
            sid = await open_session(application)
            status, _, body = await exchange(application, "DELETE", {"Mcp-Session-Id": sid})
            status = 200 if status == 204 else status
        if status != 200:
            raise SystemExit(f"{scenario} answered {status}: {body[:200]!r}")

    for i in range(min(500, count)):  # warm caches, lazy imports, metric children
        await once(i)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    # The fastest of several blocks: other jobs on a shared machine only ever add time.
    blocks, size, spent = max(1, count // 500), min(count, 500), float("inf")
    for block in range(blocks):
        started = time.process_time()
        for i in range(size):
            await once(block * size + i)
        spent = min(spent, time.process_time() - started)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue(), file=sys.stderr)
    await lifecycle.shutdown()
    return spent / size * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="call", choices=("call", "churn", "modern"))
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--profile", help="write cProfile stats here and print the top entries")
    parser.add_argument("--redis-url", help="use this Redis instead of the memory store")
    args = parser.parse_args()
    os.environ.setdefault("MCP_DATA_DIR", tempfile.mkdtemp(prefix="mcp-inproc-"))
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
        os.environ.pop("MCP_STORE", None)
    else:
        os.environ["MCP_STORE"] = "memory"
    os.environ.setdefault("MCP_ALLOWED_HOSTS", "*")
    micros = asyncio.run(run(args.scenario, args.n, args.profile))
    unit = "session (initialize, initialized, DELETE)" if args.scenario == "churn" else "request"
    print(f"{args.scenario}: {micros:.0f} µs CPU per {unit}")


if __name__ == "__main__":
    main()
