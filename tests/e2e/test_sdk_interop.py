"""The official SDKs, as real clients in their own processes, against the real server.

Python: tests/e2e/clients/python/client.py in a virtualenv of its own (the SDK is also
named ``mcp``). TypeScript: tests/e2e/clients/node/client.mjs under the system Node. Each
connects over Streamable HTTP, initializes, lists tools, calls ``echo`` then
``replayLastEcho``, ends its session (DELETE), and prints one JSON line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deps import clean_env
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.e2e

CLIENT_TIMEOUT = 120.0
MIN_TOOLS = 11


def run_client(command: list[str], cwd: Path, server: LiveServer) -> dict[str, Any]:
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command} did not finish within {CLIENT_TIMEOUT:.0f}s\nserver log:\n{server.log()}")
    report = f"exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{report}\nserver log:\n{server.log()}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, report
    return json.loads(lines[-1])


def check_outcome(outcome: dict[str, Any], message: str, server: LiveServer) -> None:
    assert outcome["sessionId"], outcome
    assert outcome["protocolVersion"], outcome
    tools = outcome["tools"]
    assert len(tools) >= MIN_TOOLS, f"{len(tools)} tools listed: {tools}"
    assert {"echo", "replayLastEcho"} <= set(tools), tools

    assert not outcome["echoIsError"], outcome
    [echoed] = outcome["echo"]
    assert echoed.endswith(f"] {message}"), echoed
    assert echoed.startswith(f"[Session {outcome['sessionId'][:8]}..."), echoed

    assert not outcome["replayIsError"], outcome
    [replayed] = outcome["replay"]
    assert replayed.startswith(f"[REPLAY - Session {outcome['sessionId'][:8]}..."), replayed
    assert replayed.endswith(message), replayed

    # The client ended its session with DELETE: the server holds none.
    health = httpx.get(f"{server.url}/health", timeout=5).json()
    assert health.get("sessions") == 0, health


def test_python_sdk_client(server_factory, python_sdk: Path):
    server = server_factory()
    message = "interop from the Python SDK"
    client = Path(__file__).parent / "clients" / "python" / "client.py"
    # -I: the SDK's ``mcp`` only; neither this repository nor PYTHONPATH is on sys.path.
    outcome = run_client([str(python_sdk), "-I", str(client), server.mcp_url, message], client.parent, server)
    assert outcome["sdk"] == "python"
    check_outcome(outcome, message, server)


def test_typescript_sdk_client(server_factory, node_client: Path):
    node = shutil.which("node")
    assert node, "node is not on PATH; the TypeScript SDK interop test needs Node.js >= 18"
    server = server_factory()
    message = "interop from the TypeScript SDK"
    outcome = run_client([node, str(node_client), server.mcp_url, message], node_client.parent, server)
    assert outcome["sdk"] == "typescript"
    check_outcome(outcome, message, server)
