"""CORS for browser clients, and who a request comes from behind (or without) trusted proxies."""

from __future__ import annotations

import httpx
import orjson
import pytest

from echoserver.asgi import application
from mcp.store import get_store
from mcp.wire.peers import trusted_networks
from tests.support.client import ACCEPT_BOTH, McpClient
from tests.support.schema_check import assert_valid

BROWSER = "http://localhost:5173"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH}
INIT = orjson.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "browser", "version": "1"},
        },
    }
)
PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
REQUESTED_HEADERS = ["content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id"]


def header_list(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",") if item.strip()}


def assert_error(response: httpx.Response, status: int, code: int) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = assert_valid(response.json())
    assert body["error"]["code"] == code and "id" not in body
    return body


# --- CORS ----------------------------------------------------------------------------------------


def preflight_headers(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": ", ".join(REQUESTED_HEADERS),
    }


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
async def test_a_preflight_from_an_allowed_origin_allows_the_mcp_headers(http, method):
    response = await http.options("/mcp", headers=preflight_headers(BROWSER, method))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == BROWSER
    assert set(REQUESTED_HEADERS) <= header_list(response.headers["access-control-allow-headers"])
    assert method.lower() in header_list(response.headers["access-control-allow-methods"])
    assert "origin" in header_list(response.headers.get("vary", ""))
    assert response.content == b""
    # A preflight is not a session: nothing was created.
    assert (await get_store().stats()).active == 0


async def test_a_post_from_an_allowed_origin_exposes_the_session_id(http):
    response = await http.post("/mcp", content=INIT, headers={**JSON_HEADERS, "Origin": BROWSER})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == BROWSER
    exposed = header_list(response.headers["access-control-expose-headers"])
    assert {"mcp-session-id", "mcp-protocol-version"} <= exposed
    assert response.headers["mcp-session-id"]


async def test_a_browser_session_works_end_to_end_with_its_origin(http):
    client = McpClient(http, extra_headers={"Origin": BROWSER})
    await client.initialize()
    assert (await client.tool_text("echo", {"message": "from the browser"})).endswith("from the browser")
    response = await client.request("ping")
    assert response.headers["access-control-allow-origin"] == BROWSER


@pytest.mark.parametrize(
    "headers, status, code",
    [
        pytest.param({"Mcp-Session-Id": "f" * 32}, 404, -32001, id="unknown session 404"),
        pytest.param({}, 400, -32600, id="no session 400"),
        pytest.param({"Accept": "text/html"}, 406, -32600, id="406"),
        pytest.param({"Content-Type": "text/plain"}, 415, -32600, id="415"),
        pytest.param({"MCP-Protocol-Version": "garbage"}, 400, -32600, id="bad version 400"),
    ],
)
async def test_an_allowed_browser_can_read_the_error_it_gets(http, headers, status, code):
    # Without Access-Control-Allow-Origin the browser hides the answer: a client could not tell
    # an expired session (re-initialize) from a network failure.
    response = await http.post("/mcp", content=PING, headers={**JSON_HEADERS, "Origin": BROWSER, **headers})
    assert_error(response, status, code)
    assert response.headers["access-control-allow-origin"] == BROWSER
    assert "mcp-session-id" in header_list(response.headers["access-control-expose-headers"])


# Regression (no CORS headers at dbfd566): the 413 was sent by echoserver.handler before the
# middleware chain, so a browser client saw a network error instead.
async def test_an_allowed_browser_can_read_the_413(http):
    big = b" " * (4 * 1024 * 1024 + 1)
    response = await http.post("/mcp", content=big, headers={**JSON_HEADERS, "Origin": BROWSER})
    assert_error(response, 413, -32600)
    assert response.headers.get("access-control-allow-origin") == BROWSER


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://localhost.evil.example", "https://localhost:5173"]
)
async def test_a_preflight_from_a_foreign_origin_is_refused(http, origin):
    response = await http.options("/mcp", headers=preflight_headers(origin))
    assert_error(response, 403, -32600)
    assert "access-control-allow-origin" not in response.headers


async def test_a_port_specific_allow_list_admits_that_port_only(http, settings):
    settings.MCP_ALLOWED_ORIGINS = [BROWSER]
    ok = await http.post("/mcp", content=INIT, headers={**JSON_HEADERS, "Origin": BROWSER})
    assert ok.status_code == 200
    refused = await http.post(
        "/mcp", content=INIT, headers={**JSON_HEADERS, "Origin": "http://localhost:5174"}
    )
    assert_error(refused, 403, -32600)


# Regression (HTML 500 at dbfd566): origin_allowed read urlsplit(origin).port, which raises
# ValueError, outside the `guarded` boundary, whenever MCP_ALLOWED_ORIGINS names a port.
@pytest.mark.parametrize("origin", ["http://localhost:x", "http://localhost:99999", "http://localhost:-1"])
@pytest.mark.parametrize("method", ["POST", "OPTIONS"])
async def test_a_malformed_origin_port_is_403_not_500(http, settings, origin, method):
    settings.MCP_ALLOWED_ORIGINS = [BROWSER]
    headers = {**JSON_HEADERS, **preflight_headers(origin)}
    response = await http.request(method, "/mcp", content=INIT, headers=headers)
    assert_error(response, 403, -32600)


# --- Trusted proxies ---------------------------------------------------------------------------


@pytest.fixture
def trusted_proxy(settings):
    """This test's peer (127.0.0.1) is a trusted proxy; the cached networks follow the setting."""
    settings.MCP_TRUSTED_PROXIES = ["127.0.0.1"]
    trusted_networks.cache_clear()
    yield
    trusted_networks.cache_clear()


@pytest.fixture
def no_trusted_proxy(settings):
    settings.MCP_TRUSTED_PROXIES = []
    trusted_networks.cache_clear()
    yield
    trusted_networks.cache_clear()


async def initialize(http: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await http.post("/mcp", content=INIT, headers={**JSON_HEADERS, **headers})


async def recorded_address(response: httpx.Response) -> str:
    session = await get_store().get(response.headers["mcp-session-id"], touch=False)
    assert session is not None
    return session.client_addr


async def test_behind_a_trusted_proxy_x_forwarded_for_is_the_client(http, settings, trusted_proxy):
    settings.MCP_MAX_SESSIONS_PER_CLIENT = 2
    first = await initialize(http, **{"X-Forwarded-For": "203.0.113.9"})
    assert first.status_code == 200
    assert await recorded_address(first) == "203.0.113.9"
    assert (await initialize(http, **{"X-Forwarded-For": "203.0.113.9"})).status_code == 200
    # That client is at its limit; other clients behind the same proxy, and the proxy, are not.
    body = assert_error(await initialize(http, **{"X-Forwarded-For": "203.0.113.9"}), 503, -32600)
    assert "MCP_MAX_SESSIONS_PER_CLIENT" in body["error"]["message"]
    other = await initialize(http, **{"X-Forwarded-For": "203.0.113.10"})
    assert other.status_code == 200 and await recorded_address(other) == "203.0.113.10"
    direct = await initialize(http)
    assert direct.status_code == 200 and await recorded_address(direct) == "127.0.0.1"


async def test_a_client_cannot_dodge_its_limit_by_prepending_forwarded_hops(http, settings, trusted_proxy):
    settings.MCP_MAX_SESSIONS_PER_CLIENT = 1
    assert (await initialize(http, **{"X-Forwarded-For": "203.0.113.9"})).status_code == 200
    # The proxy appends the address it saw; what the client wrote before it does not count.
    spoofed = await initialize(http, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    assert_error(spoofed, 503, -32600)
    # Through a second trusted proxy, the nearest untrusted hop is still the client.
    chained = await initialize(http, **{"X-Forwarded-For": "203.0.113.9, 127.0.0.1"})
    assert_error(chained, 503, -32600)


@pytest.mark.parametrize(
    "forwarded",
    [b"", b" , ,", b"not-an-ip", b"999.999.999.999", b"::ffff:203.0.113.9", b"1.2.3.4" * 2000, b"\xff\xfe"],
)
async def test_a_garbage_x_forwarded_for_from_a_trusted_proxy_is_answered(http, trusted_proxy, forwarded):
    headers = [(b"content-type", b"application/json"), (b"x-forwarded-for", forwarded)]
    response = await http.post("/mcp", content=INIT, headers=headers)
    assert response.status_code == 200, response.text
    client = McpClient(http, session_id=response.headers["mcp-session-id"])
    assert (await client.tool_text("echo", {"message": "still fine"})).endswith("still fine")


async def test_an_untrusted_peer_cannot_forward_for_anyone(settings, trusted_proxy):
    settings.MCP_MAX_SESSIONS_PER_CLIENT = 1
    transport = httpx.ASGITransport(app=application, client=("127.0.0.2", 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:3000") as other:
        first = await initialize(other, **{"X-Forwarded-For": "203.0.113.9"})
        assert first.status_code == 200 and await recorded_address(first) == "127.0.0.2"
        second = await initialize(other, **{"X-Forwarded-For": "203.0.113.77"})
        assert_error(second, 503, -32600)
        # Nor can it name the host: its own Host header is what is checked.
        client = McpClient(other, session_id=first.headers["mcp-session-id"])
        response = await client.request("ping", **{"X-Forwarded-Host": "evil.example"})
        assert response.status_code == 200


async def test_behind_a_trusted_proxy_x_forwarded_host_is_checked(http, trusted_proxy):
    evil = await http.post("/mcp", content=INIT, headers={**JSON_HEADERS, "X-Forwarded-Host": "evil.example"})
    body = assert_error(evil, 403, -32600)
    assert "evil.example" in body["error"]["message"]
    # The forwarded host is the one that counts: a good one over an internal Host is fine.
    good = await http.post(
        "/mcp",
        content=INIT,
        headers={**JSON_HEADERS, "Host": "backend.internal:8000", "X-Forwarded-Host": "localhost:3000"},
    )
    assert good.status_code == 200
    assert (await get_store().stats()).active == 1


async def test_without_trusted_proxies_forwarded_headers_change_nothing(http, settings, no_trusted_proxy):
    settings.MCP_MAX_SESSIONS_PER_CLIENT = 2
    spoof = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
    }
    first = await initialize(http, **spoof)
    assert first.status_code == 200 and await recorded_address(first) == "127.0.0.1"
    assert (await initialize(http, **{"X-Forwarded-For": "203.0.113.10"})).status_code == 200
    # Every address it claims is still the one peer, at its limit.
    assert_error(await initialize(http, **{"X-Forwarded-For": "203.0.113.11"}), 503, -32600)
    # A forwarded host does not rescue a foreign Host either.
    foreign = await http.post(
        "/mcp",
        content=INIT,
        headers={**JSON_HEADERS, "Host": "evil.example", "X-Forwarded-Host": "localhost"},
    )
    assert_error(foreign, 403, -32600)
