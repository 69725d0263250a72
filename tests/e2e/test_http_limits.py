"""The console script's uvicorn refuses oversized request heads at the HTTP layer (431).

Raw sockets, so that the request is exactly what an attacker sends: 20,000 header lines, or a
few very long ones; the application never sees them, and the process keeps answering.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.live import HTTP_TIMEOUT, LiveServer, console_script_argv, exchange, request_head, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("heads"), argv=console_script_argv)
    yield live
    live.stop()


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([b"X-H-%d: v\r\n" % i for i in range(20_000)], id="20,000 header lines"),
        pytest.param([b"X-H-%d: v\r\n" % i for i in range(200)], id="200 header lines"),
        pytest.param([b"X-Big-%d: " % i + b"a" * 20_000 + b"\r\n" for i in range(4)], id="80 KB of values"),
    ],
)
def test_oversized_request_heads_are_refused_with_431(server, extra):
    answer = exchange(server, request_head(extra))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"MCP_MAX_HEADERS" in answer
    assert httpx.get(f"{server.url}/health", timeout=HTTP_TIMEOUT).status_code == 200


def test_a_head_within_the_limits_is_served(server):
    answer = exchange(server, request_head([b"X-H-%d: v\r\n" % i for i in range(100)]))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_limits_count_per_request_on_a_kept_alive_connection(server):
    """Three requests of 100 headers each on one connection: 300 in all, each one allowed."""
    headers = {f"X-H-{i}": "v" for i in range(100)}
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as client:
        for _ in range(3):
            assert client.get("/health", headers=headers).status_code == 200
        assert (
            client.get("/health", headers={**headers, **{f"X-M-{i}": "v" for i in range(50)}}).status_code
            == 431
        )
