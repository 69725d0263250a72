from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from echoserver.asgi import application
from mcp.bus import get_bus
from mcp.calls import running
from mcp.process import lifecycle
from mcp.store import get_store
from tests.support.client import McpClient
from tests.support.postgres import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.tokens import ISSUER, RESOURCE, SECRET


@pytest.fixture(autouse=True)
def fresh_state():
    """Every test starts with no sessions, no streams and no running requests."""
    get_store().reset()
    get_bus().reset()
    # The in-process sweeper is not started under tests (no lifespan): they sweep explicitly.
    lifecycle.started = True
    yield
    for key in list(running._tasks):
        running._tasks[key].cancel()
    get_store().reset()
    get_bus().reset()


@pytest.fixture
async def http():
    transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as client:
        yield client


@pytest.fixture
def mcp_client(http) -> McpClient:
    return McpClient(http)


@pytest.fixture
async def session(mcp_client) -> McpClient:
    """A client with an initialized session."""
    await mcp_client.initialize()
    return mcp_client


# --- Backends and modes ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://127.0.0.1:<port>/0`` of a redis-server started for this test session."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL started (as the postgres user, in a temporary directory, on a free port) for
    this test session, and stopped and removed after it."""
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """``postgres://postgres@127.0.0.1:<port>/mcp``: the session server's shared database."""
    return postgres_server.url


@pytest.fixture
def fresh_database(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty database of its own for one test."""
    return postgres_server.create_database(f"t{abs(hash(request.node.nodeid)) % 10**9}")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for one test, which may stop or restart it."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def jwt_mode(settings):
    """MCP_AUTH=jwt with the HMAC secret of ``tests.support.tokens`` (``hs_token`` signs for it)."""
    settings.MCP_AUTH = "jwt"
    settings.MCP_RESOURCE_URL = RESOURCE
    settings.MCP_JWT_AUDIENCE = None
    settings.MCP_JWT_SECRET = SECRET
    settings.MCP_JWT_PUBLIC_KEY_FILE = None
    settings.MCP_JWKS_URL = None
    settings.MCP_JWKS_CACHE_SECONDS = 300
    settings.MCP_JWT_ALGORITHMS = []
    settings.MCP_JWT_ISSUER = ISSUER
    settings.MCP_JWT_LEEWAY = 30
    settings.MCP_AUTHORIZATION_SERVERS = [ISSUER]
    settings.MCP_REQUIRED_SCOPES = []
    settings.MCP_RATE_LIMIT = 0
    return settings
