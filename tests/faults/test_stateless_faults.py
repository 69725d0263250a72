"""Per-request fault profiles in the 2026-07-28 (stateless) era: the MCP-Faults header on any
modern request, drawn at the index of the request's JSON-RPC id."""

from __future__ import annotations

import orjson
import pytest

from mcp.faults.draws import draw
from mcp.faults.profile import normalize
from tests.support.modern_client import modern_error, modern_post, modern_result


def faults(**profile) -> dict[str, str]:
    return {"MCP-Faults": orjson.dumps(profile).decode()}


async def echo(http, request_id: int, **profile):
    return await modern_post(
        http,
        "tools/call",
        {"name": "echo", "arguments": {"message": "hi"}},
        request_id=request_id,
        headers=faults(**profile),
    )


@pytest.mark.parametrize("status", [500, 503])
async def test_http_errors_on_a_stateless_request_echo_its_id(http, status):
    response = await echo(http, 5, seed=1, httpError={"rate": 1, "status": status, "retryAfter": 3})
    assert response.status_code == status
    assert response.json()["id"] == 5 and "injected fault" in response.json()["error"]["message"]
    assert (response.headers.get("retry-after") == "3") == (status == 503)


async def test_tool_errors_and_unauthorized_on_stateless_requests(http):
    result = modern_result(await echo(http, 1, seed=1, toolError={"rate": 1}), "tools/call")
    assert result["isError"] is True
    error = modern_error(await echo(http, 2, seed=1, toolError={"rate": 1, "as": "jsonrpc"}), 200, -32603)
    assert "injected fault" in error["error"]["message"]
    refused = await echo(http, 1, seed=1, unauthorized={})
    assert refused.status_code == 401 and "invalid_token" in refused.headers["www-authenticate"]


async def test_the_request_id_is_the_draw_index(http):
    profile = {"seed": 99, "httpError": {"rate": 0.5}}
    expected = [draw(normalize(profile, max_bytes=1), n).http_status == 503 for n in range(1, 21)]
    for _ in range(2):
        seen = [(await echo(http, n, **profile)).status_code == 503 for n in range(1, 21)]
        assert seen == expected
    assert any(expected) and not all(expected)


async def test_an_invalid_header_is_400_with_the_id(http):
    response = await modern_post(http, "tools/list", request_id=8, headers={"MCP-Faults": '{"bogus": 1}'})
    assert response.status_code == 400 and response.json()["id"] == 8
    assert "invalid MCP-Faults header" in response.json()["error"]["message"]


async def test_without_the_header_nothing_is_injected(http):
    assert modern_result(
        await modern_post(http, "tools/call", {"name": "echo", "arguments": {"message": "x"}}), "tools/call"
    )["content"]
