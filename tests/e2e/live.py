"""The real server in a subprocess, and an SSE reader with hard timeouts.

``start_server`` runs ``python -m uvicorn echoserver.asgi:application`` on a free port of
127.0.0.1 with a private MCP_DATA_DIR, waits (bounded) until ``GET /health`` answers 200,
and ``LiveServer.stop`` terminates it (then kills it after a bounded wait). On Linux the
server also dies with the test process (PR_SET_PDEATHSIG), so no run leaves one behind.

``SseStream`` reads an open streaming response in a background task into a queue, so a
test can wait for the next item with a timeout without disturbing the reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.e2e.deps import REPO
from tests.support.client import McpClient

SSE = "text/event-stream"

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# Every HTTP exchange with the live server is bounded; stream reads are bounded again per item.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# Inherited variables that would change what the server under test is.
SCRUBBED_ENV = ("REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    def log(self, tail: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "<no log>"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)


def server_env(data_dir: Path, overrides: dict[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("MCP_") and name not in SCRUBBED_ENV
    }
    env.update({"MCP_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


def uvicorn_argv(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "echoserver.asgi:application",
        "--host",
        HOST,
        "--port",
        str(port),
        "--lifespan",
        "on",
    ]


def console_script_argv(port: int) -> list[str]:
    """The installed ``mcp-echo-stateful-server`` (what the README and the image run)."""
    return [
        str(Path(sys.executable).parent / "mcp-echo-stateful-server"),
        "--host",
        HOST,
        "--port",
        str(port),
    ]


def start_server(
    data_dir: Path,
    overrides: dict[str, str] | None = None,
    *,
    attempts: int = 3,
    argv: Callable[[int], list[str]] = uvicorn_argv,
    cwd: Path = REPO,
) -> LiveServer:
    """A started server that answered ``GET /health`` with 200 (a few tries for port races)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    template = server_env(data_dir, dict(overrides or {}))
    failure = ""
    for attempt in range(attempts):
        port = free_port()
        # "{port}" in a value (MCP_RESOURCE_URL=http://127.0.0.1:{port}/mcp) becomes the port.
        env = {name: value.replace("{port}", str(port)) for name, value in template.items()}
        if env.get("MCP_AUTH") == "embedded":
            migrate(env)
        log_path = data_dir / f"server-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv(port),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        server = LiveServer(process, port, data_dir, log_path, env)
        if wait_healthy(server):
            return server
        server.stop()
        failure = f"attempt {attempt + 1} on port {port}: exit code {process.returncode}\n{server.log()}"
        if "address already in use" not in failure.lower():
            break
    raise RuntimeError(f"the server did not become healthy within {START_TIMEOUT:.0f}s; {failure}")


def migrate(env: dict[str, str]) -> None:
    """The embedded authorization server keeps its state in the database: create the tables."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        check=True,
        timeout=120,
    )


def wait_healthy(server: LiveServer, timeout: float = START_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=httpx.Timeout(1.0)) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                if client.get(f"{server.url}/health").status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    return False


# --- SSE -----------------------------------------------------------------------------------------


@dataclass
class SseItem:
    """One block of an SSE stream: an event (data/id/event/retry) or only comment lines."""

    comments: list[str] = field(default_factory=list)
    data: str | None = None
    id: str | None = None
    event: str | None = None
    retry: int | None = None
    at: float = 0.0

    @property
    def is_comment(self) -> bool:
        return self.data is None and self.id is None and self.event is None and self.retry is None

    @property
    def message(self) -> dict[str, Any] | None:
        """The JSON-RPC message this event carries (None for comments and priming events)."""
        if not self.data or not self.data.strip():
            return None
        return orjson.loads(self.data)


class StreamEnded(Exception):
    pass


class SseStream:
    """The items of an open SSE response, read in the background."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.items: list[SseItem] = []
        self._queue: asyncio.Queue[SseItem | BaseException | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._read())
        self.ended = False

    async def _read(self) -> None:
        item = SseItem()
        data: list[str] = []
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if data or not item.is_comment or item.comments:
                        if data:
                            item.data = "\n".join(data)
                        item.at = time.monotonic()
                        await self._queue.put(item)
                    item, data = SseItem(), []
                    continue
                if line.startswith(":"):
                    item.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    data.append(value)
                elif name == "id":
                    item.id = value
                elif name == "event":
                    item.event = value
                elif name == "retry":
                    item.retry = int(value)
        except Exception as exc:  # a broken connection is reported to the waiting test
            await self._queue.put(exc)
        finally:
            await self._queue.put(None)

    async def next(self, timeout: float) -> SseItem:
        """The next item; TimeoutError if none within ``timeout``, StreamEnded at its end."""
        if self.ended:
            raise StreamEnded()
        async with asyncio.timeout(timeout):
            got = await self._queue.get()
        if got is None:
            self.ended = True
            raise StreamEnded()
        if isinstance(got, BaseException):
            self.ended = True
            raise StreamEnded(f"the stream broke: {got!r}") from got
        self.items.append(got)
        return got

    async def next_message(self, timeout: float) -> dict[str, Any]:
        """The next JSON-RPC message, skipping comments and priming events, within ``timeout``."""
        async with asyncio.timeout(timeout):
            while True:
                message = (await self.next(timeout)).message
                if message is not None:
                    return message

    async def messages_for(self, seconds: float) -> list[dict[str, Any]]:
        """Every message that arrives in the next ``seconds`` (the stream may stay open)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = await self.next(left)
            except (TimeoutError, StreamEnded):
                break
            if item.message is not None:
                found.append(item.message)
        return found

    async def wait_end(self, timeout: float) -> list[SseItem]:
        """Read until the server ends the stream; TimeoutError if it does not within ``timeout``."""
        rest: list[SseItem] = []
        async with asyncio.timeout(timeout):
            while True:
                try:
                    rest.append(await self.next(timeout))
                except StreamEnded:
                    return rest

    async def aclose(self) -> None:
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(self._task, 5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.response.aclose(), 5)


@contextlib.asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> AsyncIterator[tuple[httpx.Response, SseStream]]:
    """A streaming request whose body is read as SSE; closed (bounded) on exit."""
    async with asyncio.timeout(15):
        request = client.build_request(method, url, **kwargs)
        response = await client.send(request, stream=True)
    stream = SseStream(response)
    try:
        yield response, stream
    finally:
        await stream.aclose()


def get_headers(client: McpClient, **extra: str) -> dict[str, str]:
    """The headers of a GET stream request for ``client``'s session."""
    headers = {"Accept": SSE, "MCP-Protocol-Version": client.protocol}
    if client.session_id:
        headers["Mcp-Session-Id"] = client.session_id
    headers.update(extra)
    return headers


def open_get(client: McpClient, **extra: str):
    """Open ``client``'s GET stream (an async context manager yielding an SseStream)."""
    return open_stream(client.http, "GET", client.path, headers=get_headers(client, **extra))


def exchange(server: LiveServer, head: bytes) -> bytes:
    """Send ``head`` (a whole request head) and read what comes back until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        try:
            connection.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-send: the answer is already waiting
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and not answer.startswith(b"HTTP/1.1 100"):
                break
        return answer


def request_head(extra: list[bytes]) -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + b"".join(extra) + b"\r\n"
