"""Real 2026-07-28 clients, out of process, against one server where a 2025-11-25 SDK client
holds a session the whole time:

- the Python SDK 2.3.0 client pinned to 2026-07-28 and in ``auto`` mode (it must pick 2026-07-28);
- the TypeScript ``@modelcontextprotocol/client`` 2.4.0, pinned and ``auto``;
- the Inspector 2.12 CLI with ``--protocol-era modern``.

The SDK clients list tools, call echo, complete a sampling round trip through input_required and
hold a subscriptions/listen stream until a list change arrives. The Inspector CLI runs one
method per invocation and never declares sampling (its CLI has no one to ask) nor offers
subscriptions/listen: it lists tools, calls echo, completes an input_required round trip through
the capability it declares (roots), and is refused sampling with -32021 as the spec asks.
Afterwards the session client replays its echo: the session lived through all of it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.deps import (
    INSPECTOR_CLI,
    MODERN_NODE_CLIENT_DIR,
    MODERN_PYTHON_CLIENT_DIR,
    PYTHON_CLIENT_DIR,
    clean_env,
)
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.e2e

CLIENT_TIMEOUT = 120.0
HELD_MESSAGE = "held by a 2025-11-25 session"


def steps(output: str) -> dict[str, dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {line["step"]: line for line in lines if "step" in line}


def execute(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env={**clean_env(), **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
    )


def run(command: list[str], cwd: Path, server: LiveServer) -> str:
    done = execute(command, cwd)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{command[:4]} exited {done.returncode}:\n{output}\nserver:\n{server.log()}"
    return done.stdout


@pytest.fixture(scope="module")
def held(echo_server: LiveServer, python_sdk: Path) -> Iterator[tuple[LiveServer, subprocess.Popen[str]]]:
    server = echo_server
    holder = subprocess.Popen(
        [str(python_sdk), "-I", str(PYTHON_CLIENT_DIR / "hold.py"), server.mcp_url, HELD_MESSAGE],
        cwd=PYTHON_CLIENT_DIR,
        env=clean_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        first = json.loads(holder.stdout.readline() or "{}")
        assert first.get("protocolVersion") == "2025-11-25" and first.get("sessionId"), first
        yield server, holder
    finally:
        holder.kill()
        holder.wait(10)


def check_sdk_steps(outcome: dict[str, dict[str, Any]], who: str) -> None:
    assert "failed" not in outcome, outcome.get("failed")
    assert outcome["connected"]["version"] == "2026-07-28"
    assert "echo" in outcome["tools"]["names"] and "requestSampling" in outcome["tools"]["names"]
    assert f"] hello from {who}\nState handle: " in outcome["echo"]["text"]  # echo minted a handle
    assert outcome["sampling"]["isError"] is False
    assert f"sampled by the {who} client" in outcome["sampling"]["text"]
    assert outcome["event"]["type"] in ("ToolsListChanged", "notifications/tools/list_changed")


@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
def test_python_sdk_2_client(held, modern_python_sdk: Path, mode: str) -> None:
    server, _ = held
    client = MODERN_PYTHON_CLIENT_DIR / "client.py"
    outcome = steps(
        run([str(modern_python_sdk), "-I", str(client), server.mcp_url, mode], client.parent, server)
    )
    check_sdk_steps(outcome, "python 2.x")


@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
def test_typescript_client_2(held, modern_node_clients: Path, mode: str) -> None:
    server, _ = held
    outcome = steps(run(["node", "client.mjs", server.mcp_url, mode], MODERN_NODE_CLIENT_DIR, server))
    assert outcome["connected"]["era"] == "modern"
    check_sdk_steps(outcome, "typescript 2.x")


def inspector(server: LiveServer, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        "node",
        str(INSPECTOR_CLI),
        "--cli",
        server.mcp_url,
        "--protocol-era",
        "modern",
        "--format",
        "json",
    ]
    catalog = {
        "MCP_CATALOG_PATH": str(tmp / "catalog.json"),
        "MCP_CLIENT_CONFIG_PATH": str(tmp / "client.json"),
    }
    return execute([*command, "-q", *args], tmp, **catalog)


def test_inspector_cli_modern(held, modern_node_clients: Path, tmp_path: Path) -> None:
    server, _ = held
    listed = inspector(server, tmp_path, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr
    assert "echo" in [tool["name"] for tool in json.loads(listed.stdout)["result"]["tools"]]
    echoed = inspector(
        server,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "echo",
        "--tool-arg",
        "message=from the inspector",
    )
    assert echoed.returncode == 0, echoed.stderr
    assert json.loads(echoed.stdout)["result"]["content"][0]["text"].endswith("from the inspector")
    # The tool always asks for roots: a text naming their count proves the client answered.
    roots = inspector(
        server, tmp_path, "--method", "tools/call", "--tool-name", "test_input_required_result_list_roots"
    )
    assert roots.returncode == 0, roots.stderr
    assert json.loads(roots.stdout)["result"]["content"][0]["text"] == "Found 0 root(s)"
    sampling = inspector(
        server,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "requestSampling",
        "--tool-arg",
        "prompt=hi",
    )
    assert sampling.returncode != 0
    assert "Missing required client capability" in sampling.stdout + sampling.stderr


def test_the_session_lived_beside_the_modern_clients(held) -> None:
    server, holder = held
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("replay\n")
    holder.stdin.flush()
    second = json.loads(holder.stdout.readline() or "{}")
    assert second.get("isError") is False, (second, server.log())
    assert second["replay"][0].endswith(HELD_MESSAGE)
