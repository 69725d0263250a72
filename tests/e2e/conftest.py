"""Fixtures for the end-to-end tests: the real server as a subprocess, and real clients.

``echo_server`` (not ``live_server``: pytest-django owns that name) is one server shared by
a module's tests (each test makes its own sessions); ``server_factory(**env)`` starts a
dedicated one with environment overrides (MCP_KEEPALIVE_INTERVAL, MCP_SESSION_TIMEOUT,
MCP_SWEEP_INTERVAL, ...). Servers are stopped at teardown. Test modules here mark themselves
``e2e`` (pytestmark); every test runs under a watchdog that ends the whole run (with
tracebacks) if a test outlives E2E_TEST_TIMEOUT seconds.
"""

from __future__ import annotations

import faulthandler
import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e import deps
from tests.e2e.cluster import Cluster, Node
from tests.e2e.live import HTTP_TIMEOUT, LiveServer, start_server
from tests.support.client import McpClient

E2E_TEST_TIMEOUT = float(os.environ.get("E2E_TEST_TIMEOUT", "300"))
# Fast keep-alives make idle streams observable within a test's patience.
DEFAULT_ENV = {"MCP_KEEPALIVE_INTERVAL": "0.3"}


@pytest.fixture(autouse=True)
def e2e_watchdog() -> Iterator[None]:
    """No test can hang the run: past the limit, dump every thread's stack and exit."""
    faulthandler.dump_traceback_later(E2E_TEST_TIMEOUT, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


ServerFactory = Callable[..., LiveServer]


def _factory(tmp_dir: Path) -> tuple[ServerFactory, list[LiveServer]]:
    servers: list[LiveServer] = []

    def start(**env: str | float | int) -> LiveServer:
        overrides = {**DEFAULT_ENV, **{name: str(value) for name, value in env.items()}}
        server = start_server(tmp_dir / f"server{len(servers)}", overrides)
        servers.append(server)
        return server

    return start, servers


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    """``server_factory(MCP_SESSION_TIMEOUT=2, ...)``: a dedicated live server per call."""
    start, servers = _factory(tmp_path)
    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server (keep-alive every 0.3 s) for a module's tests."""
    start, servers = _factory(tmp_path_factory.mktemp("live"))
    server = start()
    yield server
    for started in servers:
        started.stop()


@pytest.fixture
async def http(echo_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the shared live server (shadows the in-process one of tests/)."""
    async with httpx.AsyncClient(base_url=echo_server.url, timeout=HTTP_TIMEOUT) as client:
        yield client


@pytest.fixture
async def session(http: httpx.AsyncClient) -> McpClient:
    """An initialized session on the shared live server."""
    client = McpClient(http)
    await client.initialize(client_name="e2e")
    return client


# --- Out-of-process dependencies, installed once per run (and cached across runs) ---------------


def _setup(step: Callable[[], object]) -> object:
    try:
        return step()
    except deps.SetupError as exc:
        pytest.fail(f"end-to-end dependency setup failed: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def python_sdk() -> Path:
    """The python of a virtualenv holding the official MCP Python SDK."""
    return _setup(deps.python_sdk_venv)


@pytest.fixture(scope="session")
def node_client() -> Path:
    """tests/e2e/clients/node/client.mjs, its node_modules installed."""
    return _setup(deps.node_client)


@pytest.fixture(scope="session")
def har_validator() -> Path:
    """tests/e2e/har/validate.mjs, its node_modules installed."""
    return _setup(deps.har_validator)


@pytest.fixture(scope="session")
def conformance_suite() -> tuple[Path, Path]:
    """(Node 22 binary, conformance CLI entry point)."""
    return _setup(deps.conformance)


@pytest.fixture(scope="session")
def apps_host() -> Path:
    """tests/e2e/apps-host with its node_modules (AppBridge, the TypeScript client)."""
    return _setup(deps.apps_host)


@pytest.fixture(scope="session")
def conformance_next_suite() -> tuple[Path, Path]:
    """Node 22 and the 0.2.0 pre-release conformance CLI (2026-07-28 scenarios)."""
    return _setup(deps.conformance_next)


@pytest.fixture(scope="session")
def modern_python_sdk() -> Path:
    """The python of the SDK 2.x virtualenv (a 2026-07-28 client)."""
    return _setup(deps.modern_python_sdk_venv)


@pytest.fixture(scope="session")
def modern_node_clients() -> Path:
    """node_modules with @modelcontextprotocol/client 2.x and the Inspector CLI."""
    return _setup(deps.modern_node_clients)


@pytest.fixture
async def cluster(server_factory, redis_url: str) -> AsyncIterator[Cluster]:
    prefix = f"mn{secrets.token_hex(4)}"
    env = {"REDIS_URL": redis_url, "MCP_REDIS_PREFIX": prefix, "MCP_KEEPALIVE_INTERVAL": 0.3}
    server_a, server_b = server_factory(**env), server_factory(**env)
    async with (
        httpx.AsyncClient(base_url=server_a.url, timeout=HTTP_TIMEOUT) as http_a,
        httpx.AsyncClient(base_url=server_b.url, timeout=HTTP_TIMEOUT) as http_b,
    ):
        nodes = Cluster(Node("A", server_a, http_a), Node("B", server_b, http_b), prefix, redis_url)
        for node in (nodes.a, nodes.b):
            health = await node.http.get("/health")
            assert health.status_code == 200, health.text
            assert health.json()["store"]["backend"] == "redis", (
                f"node {node.name} is not on Redis: {health.text}"
            )
        yield nodes
