"""One definition per figure: /status.json, /metrics and the admin agree after a scripted mix.

A real server (uvicorn, memory mode) gets exchanges of both eras whose outcome the test knows:
sessions and notifications, a state handle, tool calls to a registered tool and to a name nobody
registered, a 400, a 404, a JSON-RPC error inside a 200 answer, an injected 500, a GET stream and a
subscriptions/listen stream. Then every figure is read from the three places an operator looks
and compared with what was sent, and with each other:

- requests = every exchange (initialize included), errors by class (4xx, 5xx, jsonrpc_error);
- latency = request/response exchanges only; the two streams counted as stream durations;
- tool calls by registered tool, the invented name counted as ``unknown`` and nowhere by its name;
- sessions (2025) and state handles created and live, apart; the admin lists the same records,
  with their kind; the per-process rate is the page's rate.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.deps import REPO
from tests.e2e.live import server_env, start_server
from tests.support.modern_client import modern_headers, request_meta

pytestmark = pytest.mark.e2e

PASSWORD = "figures-agree-password"
SESSION_VERSION = "2025-11-25"
JSON_OR_SSE = "application/json, text/event-stream"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("figures")
    env = {**server_env(data_dir, {}), "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    for command in (
        ["migrate", "--noinput"],
        ["createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.com"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            env=env,
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=120,
        )
    server = start_server(data_dir, {"MCP_KEEPALIVE_INTERVAL": "0.3"})
    yield server
    server.stop()


class Script:
    """Sends exchanges and notes what each one was: (outcome, stream kind or None)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.sent: list[tuple[str, str | None]] = []

    def note(self, response: httpx.Response, *, stream: str | None = None) -> httpx.Response:
        if response.status_code >= 500:
            outcome = "5xx"
        elif response.status_code >= 400:
            outcome = "4xx"
        elif response.content and '"error":{' in response.text.replace(" ", "")[:200]:
            outcome = "jsonrpc_error"
        else:
            outcome = "ok"
        self.sent.append((outcome, stream))
        return response

    def session(self, name: str, faults: dict | None = None) -> str:
        headers = {"Accept": JSON_OR_SSE}
        if faults:
            headers["MCP-Faults"] = json.dumps(faults)
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": SESSION_VERSION,
                "capabilities": {},
                "clientInfo": {"name": name, "version": "1"},
            },
        }
        answer = self.note(self.http.post("/mcp", json=body, headers=headers))
        session_id = answer.headers["mcp-session-id"]
        self.note(self.post(session_id, {"jsonrpc": "2.0", "method": "notifications/initialized"}))
        return session_id

    def post(self, session_id: str | None, body: dict) -> httpx.Response:
        headers = {"Accept": JSON_OR_SSE, "MCP-Protocol-Version": SESSION_VERSION}
        if session_id:
            headers["Mcp-Session-Id"] = session_id
        return self.http.post("/mcp", json=body, headers=headers)

    def call(self, session_id: str | None, tool: str, arguments: dict, request_id: int = 2) -> httpx.Response:
        body = {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }
        return self.note(self.post(session_id, body))

    def modern(self, method: str, params: dict) -> httpx.Response:
        params = {**params, "_meta": request_meta()}
        body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
        return self.note(self.http.post("/mcp", json=body, headers=modern_headers(method, params)))

    def stream(self, kind: str, method: str, **kwargs) -> None:
        with self.http.stream(method, "/mcp", **kwargs) as response:
            assert response.status_code == 200, response.read()
            started = time.monotonic()
            for _ in response.iter_raw():
                if time.monotonic() - started > 0.8:
                    break
        self.sent.append(("ok", kind))


def metrics(http: httpx.Client) -> dict[str, list]:
    families = {}
    for family in text_string_to_metric_families(http.get("/metrics").text):
        families[family.name] = family.samples
    return families


def total(families, name: str, suffix: str = "", **labels: str) -> float:
    return sum(
        sample.value
        for sample in families.get(name, [])
        if sample.name == name + suffix and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def admin_rows(http: httpx.Client) -> Counter[str]:
    page = http.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    login = http.post(
        "/admin/login/?next=/admin/",
        data={"username": "admin", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert login.status_code == 302
    listing = http.get("/admin/ops/livesession/")
    assert listing.status_code == 200
    return Counter(re.findall(r'<td class="field-kind">([a-z_]+)</td>', listing.text))


def test_status_json_metrics_and_admin_agree_on_every_figure(site):
    with httpx.Client(base_url=site.url, timeout=15) as http:
        script = Script(http)
        a = script.session("agree-a")
        assert script.call(a, "echo", {"message": "one"}).status_code == 200
        assert "error" in script.call(a, "nosuchtool", {}, request_id=3).json()  # JSON-RPC error in a 200
        assert (
            script.note(script.post(None, {"jsonrpc": "2.0", "id": 4, "method": "ping"})).status_code == 400
        )
        assert script.call("0" * 32, "echo", {"message": "x"}).status_code == 404
        broken = script.session("agree-c", faults={"seed": 7, "httpError": {"rate": 1, "status": 500}})
        assert script.call(broken, "echo", {"message": "x"}).status_code == 500
        script.stream(
            "get",
            "GET",
            headers={
                "Accept": "text/event-stream",
                "Mcp-Session-Id": a,
                "MCP-Protocol-Version": SESSION_VERSION,
            },
        )
        echoed = script.modern("tools/call", {"name": "echo", "arguments": {"message": "stateless"}})
        assert echoed.status_code == 200 and "State handle" in echoed.text
        assert script.modern("tools/list", {}).status_code == 200
        assert "error" in script.modern("tools/call", {"name": "invented-tool", "arguments": {}}).text
        params = {"notifications": {"toolsListChanged": True}, "_meta": request_meta()}
        script.stream(
            "listen",
            "POST",
            json={"jsonrpc": "2.0", "id": 9, "method": "subscriptions/listen", "params": params},
            headers=modern_headers("subscriptions/listen", params),
        )
        time.sleep(0.2)

        status = http.get("/status.json").json()
        families = metrics(http)
        kinds = admin_rows(http)

    sent = Counter(outcome for outcome, _ in script.sent)
    streams = Counter(kind for _, kind in script.sent if kind)
    requests = status["requests"]
    # Requests: every exchange, initialize included; the same number in both places.
    assert requests["total"] == len(script.sent) == total(families, "mcp_requests", "_total")
    for outcome in ("4xx", "5xx", "jsonrpc_error"):
        assert requests["errors_total"][outcome] == sent[outcome] > 0, outcome
        assert total(families, "mcp_requests", "_total", outcome=outcome) == sent[outcome], outcome
    assert total(families, "mcp_requests", "_total", method="initialize") == 2
    # Latency: request/response exchanges only; the streams are stream durations.
    answered = len(script.sent) - sum(streams.values())
    assert status["latency_ms"]["samples"] == answered
    assert total(families, "mcp_request_duration_seconds", "_count") == answered
    for kind in ("get", "listen"):
        assert status["streams"]["ended_total"][kind] == streams[kind] == 1
        assert total(families, "mcp_stream_duration_seconds", "_count", kind=kind) == 1
    # Tools: registered names, else "unknown"; the invented names appear nowhere.
    by_tool = status["tool_calls"]["by_tool"]
    assert set(by_tool) == {"echo", "unknown"}
    tool_labels = {s.labels["tool"] for s in families["mcp_tool_calls"] if s.name == "mcp_tool_calls_total"}
    assert tool_labels == {"echo", "unknown"}
    assert status["tool_calls"]["total"] == total(families, "mcp_tool_calls", "_total")
    assert total(families, "mcp_tool_calls", "_total", tool="unknown") == 2
    assert "nosuchtool" not in json.dumps(status) and "invented-tool" not in json.dumps(status)
    # Sessions (2025) and state handles, created and live, apart; the admin lists the same.
    assert status["sessions"]["created"] == total(families, "mcp_sessions_created", "_total") == 2
    assert status["state_handles"]["created"] == total(families, "mcp_state_handles_created", "_total") == 1
    assert status["sessions"]["active"] == total(families, "mcp_active_sessions") == kinds["session"] == 2
    assert (
        status["state_handles"]["active"]
        == total(families, "mcp_active_state_handles")
        == kinds["state_handle"]
        == 1
    )
    # The one process's rate is the page's rate (same window, same snapshot).
    [process] = status["processes"]
    assert abs(process["requests_per_second"] - requests["per_second"]) <= 0.2
    assert process["requests"] == len(script.sent)
