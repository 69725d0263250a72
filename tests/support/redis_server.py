"""Private redis-servers for the Redis backend tests (never the system one on 6379).

The fixtures ``redis_url`` (one server per test session) and ``own_redis`` (one per test, which
may stop or restart it) are in tests/conftest.py. A machine without redis-server
fails these tests loudly: the Redis backends are what production runs on, so they are never
skipped and never faked.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

START_TIMEOUT = 10.0
ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


def _binary() -> str:
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if binary is None:
        pytest.fail(
            "redis-server is not installed: the Redis store and bus tests need a real server "
            "(e.g. apt-get install redis-server); they are not skipped and not faked.",
            pytrace=False,
        )
    return binary


class RedisServer:
    """One redis-server process without persistence; ``restart`` keeps its port."""

    def __init__(self, directory: Path) -> None:
        self.binary = _binary()
        self.directory = directory
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on a free port (a lost race for it is retried), or on the same port again."""
        problems: list[str] = []
        for _ in range(1 if self.port else ATTEMPTS):
            port = self.port or free_port()
            if self._launch(port, problems):
                self.port = port
                return
        pytest.fail("redis-server did not start:\n" + "\n".join(problems), pytrace=False)

    def _launch(self, port: int, problems: list[str]) -> bool:
        log = self.directory / f"redis-{port}.log"
        command = [
            self.binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        with log.open("ab") as output:
            process = subprocess.Popen(
                [*command, "--dir", str(self.directory)], stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _answers(port):
                self.process = process
                return True
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        output = log.read_text(errors="replace").strip()
        problems.append(f"port {port}: {output[-500:] or 'no answer to PING'}")
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()
