"""The operator pages in a real headless Chromium (Debian's chromium and chromium-driver, driven
by Selenium; no browser download): /status updates itself while the test makes sessions and
tool calls, and the admin finds a session, shows its traffic and terminates it.

Screenshots are kept as test artefacts in var/screenshots/ (SCREENSHOT_DIR moves them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.chromium import selenium_chrome
from tests.e2e.deps import REPO
from tests.e2e.live import LiveServer, server_env, start_server

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", REPO / "var" / "screenshots"))
WAIT = 30
PASSWORD = "browser-test-password-1"
PROTOCOL = "2025-11-25"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with selenium_chrome(1360, 1000, WAIT) as driver:
        yield driver


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose database has a superuser (as the README's createsuperuser makes one)."""
    data_dir = tmp_path_factory.mktemp("browser")
    env = {**server_env(data_dir, {}), "DJANGO_SUPERUSER_PASSWORD": PASSWORD}
    manage = [sys.executable, str(REPO / "manage.py")]
    for command in (
        ["migrate", "--noinput"],
        ["createsuperuser", "--noinput", "--username", "admin", "--email", "a@example.com"],
    ):
        subprocess.run([*manage, *command], env=env, cwd=REPO, check=True, capture_output=True, timeout=120)
    server = start_server(data_dir, {"MCP_KEEPALIVE_INTERVAL": "1"})
    yield server
    server.stop()


def shot(driver, name: str) -> Path:
    """A screenshot of the whole page (the window grown to its height for the moment)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    size = driver.get_window_size()
    height = driver.execute_script(
        "return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)"
    )
    driver.set_window_size(size["width"], min(max(height, size["height"]), 4000))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(size["width"], size["height"])
    return path


class Mcp:
    """A tiny synchronous MCP client for driving traffic beside the browser."""

    def __init__(self, url: str, name: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=10)
        self.ids = iter(range(1, 10_000))
        answer = self.post(
            {
                "jsonrpc": "2.0",
                "id": next(self.ids),
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL,
                    "capabilities": {},
                    "clientInfo": {"name": name, "version": "2.0"},
                },
            },
            session=False,
        )
        self.session_id = answer.headers["mcp-session-id"]
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, body: dict, *, session: bool = True) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if session:
            headers |= {"Mcp-Session-Id": self.session_id, "MCP-Protocol-Version": PROTOCOL}
        return self.http.post("/mcp", json=body, headers=headers)

    def call(self, tool: str, arguments: dict) -> httpx.Response:
        body = {
            "jsonrpc": "2.0",
            "id": next(self.ids),
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }
        return self.post(body)


def text_of(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def test_status_page_updates_itself_without_reload(browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(f"{site.url}/status")
    Select(browser.find_element(By.ID, "interval")).select_by_value("2000")
    browser.execute_script("window.__notReloaded = true")
    before_sessions = text_of(browser, "sessions-active")
    before_points = browser.find_element(By.ID, "line-requests").get_attribute("points")
    clients = [Mcp(site.url, f"dashboard-{n}") for n in range(3)]
    for client in clients:
        for n in range(5):
            assert client.call("echo", {"message": f"hello {n}"}).status_code == 200
    clients[0].call("sendNotifications", {"count": 3, "message": "queued for the chart"})
    # Errors of every class: a 4xx (no session header), a JSON-RPC error inside a 200 answer.
    assert clients[0].http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 400
    assert "error" in clients[0].call("nosuchtool", {}).json()

    wait = WebDriverWait(browser, WAIT, poll_frequency=0.25)
    wait.until(lambda d: text_of(d, "sessions-active") not in (before_sessions, "\u2013"))
    wait.until(lambda d: d.find_element(By.ID, "line-requests").get_attribute("points") != before_points)
    wait.until(lambda d: "echo" in text_of(d, "by-tool"))
    assert int(text_of(browser, "sessions-active")) >= 3
    assert browser.execute_script("return window.__notReloaded === true"), "the page was reloaded"
    assert float(text_of(browser, "tools-rate")) > 0
    # The error rate shows in its card (4xx · 5xx · JSON-RPC) and as a line of the chart.
    wait.until(lambda d: not text_of(d, "errors-rate").startswith("0.0"))
    assert "%" in text_of(browser, "errors-rate")
    four, five, rpc = (float(n) for n in text_of(browser, "errors-split").split(" · "))
    assert four > 0 and rpc > 0 and five == 0
    errors_line = browser.find_element(By.ID, "line-errors").get_attribute("points")
    assert errors_line and len({point.split(",")[1] for point in errors_line.split()}) > 1
    # Tools nobody registered do not become rows of their own.
    assert "nosuchtool" not in text_of(browser, "by-tool")
    assert text_of(browser, "updated") != "—"
    page = browser.page_source
    for client in clients:
        assert client.session_id not in page
    assert clients[0].session_id[:8] in text_of(browser, "queues")
    # The interval choice is kept in the browser.
    assert browser.execute_script("return localStorage.getItem('mcp-status-interval')") == "2000"
    browser.find_element(By.ID, "pause").click()
    assert text_of(browser, "pause") == "Resume"
    browser.find_element(By.ID, "pause").click()
    shot(browser, "status")


def test_admin_finds_a_session_shows_its_traffic_and_terminates_it(browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    client = Mcp(site.url, "admin-probe")
    client.call("echo", {"message": "inspect me"})
    client.call("sendNotifications", {"count": 2, "message": "waiting in the queue"})
    client.call("nosuchtool", {})  # a JSON-RPC error inside a 200 answer
    client.call("setFaults", {"seed": 7, "toolError": {"rate": 1}})
    client.call("echo", {"message": "fails"})  # answered by an injected tool error (isError)
    wait = WebDriverWait(browser, WAIT, poll_frequency=0.25)

    browser.get(f"{site.url}/admin/login/?next=/admin/ops/livesession/")
    browser.find_element(By.ID, "id_username").send_keys("admin")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait.until(lambda d: "/admin/ops/livesession/" in d.current_url and d.find_elements(By.ID, "searchbar"))

    short = client.session_id[:8]
    search = browser.find_element(By.ID, "searchbar")
    search.send_keys(short)
    search.submit()
    wait.until(lambda d: "q=" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and "admin-probe" in rows[0].text
    shot(browser, "admin-sessions")

    rows[0].find_element(By.LINK_TEXT, f"{short}…").click()
    wait.until(lambda d: d.find_elements(By.ID, "traffic"))
    traffic = browser.find_element(By.ID, "traffic").text
    assert "tools/call" in traffic and "initialize" in traffic
    # Each row names its tool; failing calls are marked without expanding anything.
    named = [
        row for row in browser.find_elements(By.CSS_SELECTOR, "tr.traffic-row") if "tools/call" in row.text
    ]
    assert {"echo", "sendNotifications", "nosuchtool", "setFaults"} <= {
        row.find_element(By.CLASS_NAME, "ops-name").text for row in named
    }
    failed = {
        row.find_element(By.CLASS_NAME, "ops-name").text: row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "tr.traffic-row.failed")
    }
    assert set(failed) == {"nosuchtool", "echo"}, failed
    assert "jsonrpc_error" in failed["nosuchtool"]
    assert "isError" in failed["echo"] and "fault: tool_error" in failed["echo"]
    # The admin's own links: "View site" goes to the dashboard; no History button.
    view_site = browser.find_element(By.CSS_SELECTOR, "#user-tools a[href='/status']")
    assert view_site.text.lower() == "view site"
    assert not browser.find_elements(By.CLASS_NAME, "historylink")
    assert "inspect me" in browser.find_element(By.ID, "session-state").text
    assert len(browser.find_elements(By.CLASS_NAME, "queued-message")) == 2
    shot(browser, "admin-session")

    browser.find_element(By.ID, "terminate-session").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".messagelist .success"))
    assert re.search(r"Terminated 1 session", browser.find_element(By.CSS_SELECTOR, ".messagelist").text)
    answer = client.post({"jsonrpc": "2.0", "id": 99, "method": "ping"})
    assert answer.status_code == 404
