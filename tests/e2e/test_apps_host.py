"""An MCP Apps host in Debian's headless Chromium renders the appProbe view, and the server's
traffic record then holds the probe's report.

The host is tests/e2e/apps-host/host.html: AppBridge from the published
@modelcontextprotocol/ext-apps and the official TypeScript client, installed by ``npm ci`` and
loaded from node_modules through an importmap (no bundler, no browser download). It connects
to the live server over Streamable HTTP (the server allows the host page's origin), calls
``appProbe``, renders its ``ui://`` view in a sandboxed iframe, and answers the view as a correct
host does. The view reports each observation by a ``tools/call`` of ``appProbeReport`` through
the host, so the test reads the verdict from the session's record, not from the screen.

Screenshots are kept in docs/ (the README shows the probe) and var/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.e2e.chromium import selenium_chrome
from tests.e2e.deps import REPO
from tests.e2e.live import LiveServer, free_port, start_server
from tests.support.client import McpClient

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", REPO / "var" / "screenshots"))
WAIT = 60
# The checks a correct host passes when the view exercises every request (exercise: "all").
HONOURED = (
    "handshake",
    "host-context",
    "tool-input",
    "tool-result",
    "tools/call",
    "ui/message",
    "ui/open-link",
    "ui/request-display-mode",
    "ui/update-model-context",
    "size-changed",
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def host_origin(apps_host: Path) -> Iterator[str]:
    """The host page and its node_modules, served from 127.0.0.1 on a free port."""
    handler = functools.partial(_QuietHandler, directory=str(apps_host))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def apps_server(host_origin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("apps"), {"MCP_ALLOWED_ORIGINS": host_origin})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    with selenium_chrome(960, 1160, WAIT) as chrome:
        yield chrome


def open_host(driver, origin: str, server: LiveServer, tool: str, args: dict) -> str:
    """Load the host page for ``tool``; the MCP session id it connected with."""
    query = urlencode({"server": server.mcp_url, "tool": tool, "args": json.dumps(args)})
    driver.get(f"{origin}/host.html?{query}")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        state = driver.execute_script(
            "return window.host && {id: window.host.sessionId, error: window.host.error}"
        )
        if state and state["error"]:
            pytest.fail(f"the test host failed: {state['error']}")
        if state and state["id"]:
            return state["id"]
        time.sleep(0.2)
    pytest.fail("the test host did not connect to the server")


async def reports(server: LiveServer, session_id: str) -> list[dict]:
    """The appProbeReport calls in the session's traffic record: (arguments, result text)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        client = McpClient(http, session_id=session_id)
        result = await client.call_tool("exportTraffic", {"format": "jsonl"})
    found = []
    for line in result["content"][0]["resource"]["text"].splitlines():
        entry = json.loads(line)
        if entry["method"] != "tools/call":
            continue
        request = json.loads(entry["request"])  # a report is far below the excerpt limit
        if request["params"]["name"] == "appProbeReport":
            found.append({"arguments": request["params"]["arguments"], "response": entry["response"]})
    return found


async def wait_for_done(server: LiveServer, session_id: str) -> list[dict]:
    deadline = time.monotonic() + WAIT
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = await reports(server, session_id)
        if any(item["arguments"]["check"] == "done" for item in found):
            return found
        time.sleep(0.5)
    pytest.fail(f"the probe's report did not finish; reported so far: {[i['arguments'] for i in found]}")


async def test_the_probe_reports_what_the_host_honoured_into_the_traffic_record(
    driver, host_origin: str, apps_server: LiveServer
):
    session_id = open_host(driver, host_origin, apps_server, "appProbe", {"exercise": "all"})
    found = await wait_for_done(apps_server, session_id)

    verdict = {item["arguments"]["check"]: item["arguments"]["outcome"] for item in found}
    assert {check: verdict.get(check) for check in HONOURED} == dict.fromkeys(HONOURED, "ok")
    assert verdict["logging"] == "sent"
    # The tool input the view saw is what the host passed to appProbe.
    inputs = [item["arguments"] for item in found if item["arguments"]["check"] == "tool-input"]
    assert json.loads(inputs[-1]["detail"]) == {"exercise": "all"}
    # The verdict the server answered the last report with names every check honoured.
    done = [item for item in found if item["arguments"]["check"] == "done"][-1]
    assert "MCP Apps host report: 11 of 11 checks honoured" in done["response"]

    host_events = driver.execute_script("return window.host.events.map(e => e.kind)")
    assert {"ui/message", "ui/open-link", "ui/request-display-mode", "notifications/message"} <= set(
        host_events
    )

    # The view fits its finished report with one more size-changed; the picture shows all of it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and host_events.count("size-changed") < 2:
        time.sleep(0.2)
        host_events = driver.execute_script("return window.host.events.map(e => e.kind)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "apps-probe.png"))


async def test_a_sandboxing_host_contains_the_hostile_view(driver, host_origin: str, apps_server: LiveServer):
    """The test host applies the declared CSP, caps the frame and checks event.source: the view
    reports each attempt contained, and the foreign frame's tools/call never reaches the server."""
    session_id = open_host(driver, host_origin, apps_server, "appHostile", {})
    found = await wait_for_done(apps_server, session_id)

    verdict = {item["arguments"]["check"]: item["arguments"]["outcome"] for item in found}
    assert verdict == {"sandbox-size": "ok", "sandbox-csp": "ok", "sandbox-source": "ok", "done": "ok"}, found
    csp = json.loads(
        next(i for i in found if i["arguments"]["check"] == "sandbox-csp")["arguments"]["detail"]
    )
    assert {v["directive"] for v in csp["violations"]} == {"connect-src", "img-src"}
