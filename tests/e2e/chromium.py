"""Debian's headless Chromium (no browser download), two ways.

``Browser`` starts ``chromium --headless`` with a private profile on a free loopback port,
opens one page, and offers the few operations a page test needs over the DevTools protocol:
navigate, evaluate JavaScript, wait for a condition. Every wait is bounded; the process is
ended on close. ``selenium_chrome`` is the same browser driven by Selenium through Debian's
chromium-driver (the page tests that click and take screenshots).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.e2e.live import free_port

START_TIMEOUT = 30.0
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@contextlib.contextmanager
def selenium_chrome(width: int, height: int, page_load_timeout: float = 30) -> Iterator[Any]:
    """A Selenium WebDriver on Debian's headless chromium and chromium-driver, quit on exit."""
    import pytest
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Debian's chromium and chromium-driver are needed (tests/run.sh installs them)")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download a browser
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(page_load_timeout)
    try:
        yield driver
    finally:
        driver.quit()


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            raise BrowserError("chromium is not installed (tests/run.sh installs Debian's package)")
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                f"--user-data-dir={self.profile.name}",
                f"--remote-debugging-port={self.port}",
                "--remote-allow-origins=*",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = count(1)
        self._stack = contextlib.ExitStack()
        self.socket = self._stack.enter_context(connect(self._page_socket(), open_timeout=10, max_size=2**24))

    def _page_socket(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited with {self.process.returncode}")
            try:
                pages = httpx.get(f"http://127.0.0.1:{self.port}/json", timeout=2).json()
                for page in pages:
                    if page.get("type") == "page":
                        return page["webSocketDebuggerUrl"]
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise BrowserError(f"chromium's DevTools did not answer within {START_TIMEOUT:.0f}s")

    def send(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        request_id = next(self._ids)
        self.socket.send(json.dumps({"id": request_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no answer to {method} within {timeout:.0f}s")
            message = json.loads(self.socket.recv(timeout=remaining))
            if message.get("id") == request_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except BrowserError:
                value = None
            if value:
                return value
            time.sleep(0.2)
        raise BrowserError(f"{expression!r} was not true within {timeout:.0f}s")

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.profile.cleanup()
