from __future__ import annotations

import httpx
import pytest

from echoserver.asgi import application
from mcp import lifecycle, running
from mcp.bus import get_bus
from mcp.store import get_store
from tests.helpers import McpClient


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
