"""With no OTEL configuration the server never imports OpenTelemetry, exchanges included.

(redis-py imports the SDK's metrics module at its own import when the SDK is installed, and
does nothing with it unless an application turns its observability on: that import is the
baseline, and the server must add nothing to it.)"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import redis.asyncio
    baseline = {name for name in sys.modules if name.startswith("opentelemetry")}
    import django
    django.setup()
    import httpx
    from echoserver.asgi import application
    from mcp import telemetry

    async def main():
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 51000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as http:
            headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
            init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            }}
            answer = await http.post("/mcp", json=init, headers=headers)
            assert answer.status_code == 200, answer.text
            headers["Mcp-Session-Id"] = answer.headers["mcp-session-id"]
            headers["MCP-Protocol-Version"] = "2025-11-25"
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
                "name": "echo", "arguments": {"message": "hi"},
                "_meta": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}}
            answer = await http.post("/mcp", json=call, headers=headers)
            assert answer.status_code == 200, answer.text

    asyncio.run(main())
    added = sorted(n for n in sys.modules if n.startswith("opentelemetry") and n not in baseline)
    ours = sorted(n for n in sys.modules if n == "mcp.telemetry.tracing")
    print("ON" if telemetry.ON else "OFF", added, ours)
    """
)


def run(extra: dict[str, str]) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    environ.update(DJANGO_SETTINGS_MODULE="echoserver.settings", **extra)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=environ, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_unset_means_off_and_nothing_imported():
    assert run({}) == "OFF [] []"


def test_sdk_disabled_means_off_even_with_an_endpoint():
    assert (
        run({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SDK_DISABLED": "true"}) == "OFF [] []"
    )
