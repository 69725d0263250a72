"""Start-up as a deployment meets it: the console script from an empty directory, operator
endpoints on loopback behind a public MCP_ALLOWED_HOSTS, JSON logs, and malformed settings
stopping the process with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from tests.e2e.live import HTTP_TIMEOUT, console_script_argv, server_env, start_server
from tests.support.client import McpClient

pytestmark = pytest.mark.e2e

SCRIPT = Path(sys.executable).parent / "mcp-echo-stateful-server"


async def test_console_script_starts_from_an_empty_directory_with_a_secret_key(tmp_path):
    empty = tmp_path / "deploy"
    empty.mkdir()
    server = start_server(
        tmp_path / "logs",
        {"MCP_DATA_DIR": "", "DJANGO_SECRET_KEY": "k" * 50, "LOG_FORMAT": "json"},
        argv=console_script_argv,
        cwd=empty,
    )
    try:
        assert (empty / "var" / "db.sqlite3").is_file()
        assert not (empty / "var" / "secret_key").exists()
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
            client = McpClient(http)
            await client.initialize()
            await client.call_tool("echo", {"message": "hi"}, Authorization="Bearer sk-live-abcdefghijklmnop")
            request_id = (await http.get("/health")).headers["x-request-id"]
    finally:
        server.stop()
    lines = [line for line in server.log(200_000).splitlines() if line.strip()]
    records = [orjson.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r["logger"] == "mcp.access"]
    assert [r for r in access if r.get("request_id") == request_id and r["path"] == "/health"]
    assert {"POST"} <= {r["method"] for r in access}
    assert all("Traceback" not in line and "abcdefghijklmnop" not in line for line in lines)
    # uvicorn's own lines too (its start-up and shutdown): no colour escapes, no color_message.
    assert [r for r in records if r["logger"].startswith("uvicorn")]
    assert all("color_message" not in r for r in records)
    assert all("\x1b" not in line and "\\u001b" not in line for line in lines)


async def test_operator_endpoints_answer_on_loopback_behind_a_public_host_name(tmp_path):
    server = start_server(tmp_path, {"MCP_ALLOWED_HOSTS": "mcp.example.com"})
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT) as http:
            assert (await http.get("/health")).status_code == 200
            assert (await http.get("/metrics")).status_code == 200
            assert (await http.get("/status")).status_code == 200
            assert (await http.get("/admin/login/")).status_code == 200
            # /mcp keeps the strict rule (DNS rebinding): only the public name.
            refused = await http.post("/mcp", json={}, headers={"Accept": "application/json"})
            assert refused.status_code == 403
            wrong = await http.get("/status", headers={"Host": "evil.example"})
            assert wrong.status_code == 400
            # The probes answer whatever Host a balancer or Prometheus sends.
            assert (await http.get("/health", headers={"Host": "10.1.2.3:3000"})).status_code == 200
    finally:
        server.stop()
    log = server.log()
    assert "MCP_ALLOWED_HOSTS" in log and "to ALLOWED_HOSTS" not in log


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MCP_TOOLSETS", "bogus"),
        ("REDIS_URL", "notaurl"),
        ("MCP_ECHO_PORT", "99999"),
        ("MCP_SESSION_TIMEOUT", "soon"),
        ("LOG_FORMAT", "xml"),
        ("MCP_TRAFFIC_LOG", "-1"),
        ("MCP_TRUSTED_PROXIES", "10.0.0.300"),
        ("MCP_ALLOWED_ORIGINS", "app.example.com"),
        ("MCP_JWKS_URL", "not a url"),
        # The variable the user set is the one named (not the --workers flag it stands for).
        ("MCP_WORKERS", "2"),
        ("DATABASE_URL", "mysql://user:secret@db/name"),
    ],
)
def test_a_malformed_setting_stops_start_up_with_one_line_naming_it(tmp_path, name, value):
    env = server_env(tmp_path, {name: value})
    result = subprocess.run(
        [str(SCRIPT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert len(output.splitlines()) == 1, output
    assert name in output and "Traceback" not in output and "secret" not in output
    assert "--workers" not in output


def test_an_unwritable_data_directory_stops_start_up_naming_mcp_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = server_env(tmp_path, {"MCP_DATA_DIR": str(blocker / "data"), "DJANGO_SECRET_KEY": "k" * 50})
    result = subprocess.run(
        [str(SCRIPT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0 and len(output.splitlines()) == 1, output
    assert "MCP_DATA_DIR" in output and "Traceback" not in output


def test_uvicorn_directly_reports_a_malformed_setting_in_one_line(tmp_path):
    env = server_env(tmp_path, {"REDIS_URL": "notaurl"})
    result = subprocess.run(
        [sys.executable, "-c", "import echoserver.asgi"],
        env={**env, "PYTHONPATH": os.getcwd()},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().startswith("configuration error: REDIS_URL")
