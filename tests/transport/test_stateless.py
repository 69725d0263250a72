"""The 2026-07-28 (stateless) era on /mcp, raw HTTP: routing by era, discover, and the rules of
its transport (``_meta``, routing headers, versions, methods, results, logging)."""

from __future__ import annotations

import base64

import pytest

from mcp.store import get_store
from tests.support.client import McpClient
from tests.support.modern_client import (
    MODERN,
    OMIT,
    SESSION_VERSIONS,
    modern_error,
    modern_messages,
    modern_post,
    modern_result,
    request_meta,
)


def b64(text: str) -> str:
    return "=?base64?" + base64.b64encode(text.encode()).decode() + "?="


# --- Routing by era ----------------------------------------------------------------------------


async def test_a_stateless_request_is_served_without_any_session(http):
    response = await modern_post(http, "tools/call", {"name": "test_simple_text", "arguments": {}})
    result = modern_result(response, "tools/call")
    assert result["content"][0]["text"] == "This is a simple text response for testing."
    assert "mcp-session-id" not in response.headers
    assert (await get_store().stats()).active == 0


async def test_initialize_without_markers_still_opens_a_session_beside_stateless_traffic(http, session):
    assert session.session_id
    response = await modern_post(http, "tools/list")
    assert modern_result(response, "tools/list")["tools"]
    listed = await session.rpc("tools/list")
    assert "resultType" not in listed["result"]  # the session era's results are unchanged
    assert (await get_store().stats()).active == 1


@pytest.mark.parametrize(
    "method", ["initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"]
)
async def test_session_only_methods_with_modern_markers_get_404(http, method):
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "x", "version": "1"},
    }
    response = await modern_post(http, method, params, request_id=77)
    error = modern_error(response, 404, -32601)
    assert error["id"] == 77
    assert "mcp-session-id" not in response.headers


async def test_modern_meta_alone_selects_the_stateless_era(http):
    # No MCP-Protocol-Version header but modern _meta: stateless, and the header is required.
    response = await modern_post(http, "tools/list", headers={"MCP-Protocol-Version": OMIT}, request_id=5)
    assert modern_error(response, 400, -32020)["id"] == 5


async def test_get_and_delete_with_a_modern_header_are_405(http):
    for method in ("GET", "DELETE"):
        response = await http.request(method, "/mcp", headers={"MCP-Protocol-Version": MODERN})
        assert response.status_code == 405
        assert response.headers["Allow"] == "POST"


async def test_a_batch_is_refused_in_the_stateless_era(http):
    body = [{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": request_meta()}}]
    response = await http.post("/mcp", json=body, headers={"MCP-Protocol-Version": MODERN})
    assert response.status_code == 400


# --- server/discover ---------------------------------------------------------------------------


async def test_discover_lists_all_five_versions_capabilities_and_identity(http):
    result = modern_result(await modern_post(http, "server/discover"), "server/discover")
    assert result["supportedVersions"] == [MODERN, *SESSION_VERSIONS]
    assert result["capabilities"]["tools"] == {"listChanged": True}
    assert result["capabilities"]["prompts"]["listChanged"] is True
    assert result["resultType"] == "complete"
    assert result["cacheScope"] == "public" and result["ttlMs"] >= 0
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcp-echo-stateful-server"


# --- _meta -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "why"),
    [
        (OMIT, "no _meta"),
        ({"io.modelcontextprotocol/clientCapabilities": {}}, "no protocol version"),
        ({"io.modelcontextprotocol/protocolVersion": MODERN}, "no client capabilities"),
        (request_meta(capabilities=[]), "capabilities not an object"),  # type: ignore[arg-type]
    ],
)
async def test_missing_meta_fields_are_400_invalid_params(http, meta, why):
    response = await modern_post(http, "server/discover", meta=meta, request_id=9)
    assert modern_error(response, 400, -32602)["id"] == 9, why


async def test_client_info_is_optional(http):
    meta = request_meta()
    del meta["io.modelcontextprotocol/clientInfo"]
    modern_result(await modern_post(http, "server/discover", meta=meta), "server/discover")


# --- Versions and routing headers ----------------------------------------------------------------


async def test_an_unsupported_version_is_400_with_supported_and_requested(http):
    meta = {**request_meta(), "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    response = await modern_post(
        http, "server/discover", meta=meta, headers={"MCP-Protocol-Version": "2099-01-01"}
    )
    error = modern_error(response, 400, -32022)["error"]
    assert error["data"] == {"supported": [MODERN, *SESSION_VERSIONS], "requested": "2099-01-01"}


async def test_header_and_meta_versions_must_agree(http):
    meta = {**request_meta(), "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    modern_error(await modern_post(http, "server/discover", meta=meta), 400, -32020)


@pytest.mark.parametrize(
    "headers",
    [{"Mcp-Method": OMIT}, {"Mcp-Method": "prompts/list"}, {"Mcp-Method": "TOOLS/LIST"}],
)
async def test_mcp_method_must_be_present_and_equal_to_the_body(http, headers):
    modern_error(await modern_post(http, "tools/list", headers=headers), 400, -32020)


async def test_header_names_are_case_insensitive_and_values_trimmed(http):
    response = await modern_post(
        http,
        "tools/call",
        {"name": "test_simple_text"},
        headers={
            "Mcp-Method": OMIT,
            "Mcp-Name": OMIT,
            "mcp-method": "tools/call",
            "MCP-NAME": "  test_simple_text  ",
        },
    )
    modern_result(response, "tools/call")


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("tools/call", {"name": "test_simple_text"}),
        ("prompts/get", {"name": "test_simple_prompt"}),
        ("resources/read", {"uri": "test://static-text"}),
    ],
)
async def test_mcp_name_must_be_present_and_equal_to_the_target(http, method, params):
    modern_error(await modern_post(http, method, params, headers={"Mcp-Name": OMIT}), 400, -32020)
    modern_error(await modern_post(http, method, params, headers={"Mcp-Name": "something-else"}), 400, -32020)
    target = next(iter(params.values()))
    modern_result(await modern_post(http, method, params, headers={"Mcp-Name": b64(target)}), method)


async def test_a_malformed_base64_sentinel_is_a_header_mismatch(http):
    for value in ("=?base64?dGVzdF9zaW1wbGVfdGV4dA?=", "=?base64?dGVz!!!?="):  # bad padding, bad alphabet
        response = await modern_post(
            http, "tools/call", {"name": "test_simple_text"}, headers={"Mcp-Name": value}
        )
        modern_error(response, 400, -32020)


async def test_mcp_param_headers_of_a_tool_must_match_its_arguments(http):
    def call(region: str, header: object) -> dict[str, object]:
        return {"params": {"name": "test_custom_headers", "arguments": {"region": region}}, "header": header}

    cases = [
        (call("eu-west", "eu-west"), 200),
        (call("Zürich", b64("Zürich")), 200),
        (call("=?base64?SGVsbG8", "=?base64?SGVsbG8"), 200),  # no closing ?=: a literal value
        (call("eu-west", OMIT), 400),
        (call("eu-west", "us-east"), 400),
        (call("Hello", "=?base64?SGVsbG8?="), 400),  # bad padding
    ]
    for case, status in cases:
        response = await modern_post(
            http, "tools/call", case["params"], headers={"Mcp-Param-Region": case["header"]}
        )
        if status == 200:
            region = case["params"]["arguments"]["region"]
            assert modern_result(response, "tools/call")["content"][0]["text"] == f"Region: {region}"
        else:
            modern_error(response, 400, -32020)


async def test_an_unknown_method_is_404(http):
    error = modern_error(await modern_post(http, "no/such/method", request_id="x1"), 404, -32601)
    assert error["id"] == "x1"


# --- Results -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "scope"),
    [
        ("tools/list", {}, "public"),
        ("prompts/list", {}, "public"),
        ("resources/list", {}, "public"),
        ("resources/templates/list", {}, "public"),
        ("resources/read", {"uri": "test://static-text"}, "private"),
    ],
)
async def test_cacheable_results_carry_ttl_and_scope(http, method, params, scope):
    result = modern_result(await modern_post(http, method, params), method)
    assert result["resultType"] == "complete"
    assert result["cacheScope"] == scope and isinstance(result["ttlMs"], int) and result["ttlMs"] >= 0


async def test_every_page_has_the_same_hints_and_lists_are_deterministic(http, settings):
    settings.MCP_PAGE_SIZE = 7
    pages, cursor = [], None
    while True:
        result = modern_result(
            await modern_post(http, "tools/list", {"cursor": cursor} if cursor else {}), "tools/list"
        )
        pages.append(result)
        cursor = result.get("nextCursor")
        if not cursor:
            break
    assert len(pages) > 2
    assert {(page["ttlMs"], page["cacheScope"]) for page in pages} == {
        (pages[0]["ttlMs"], pages[0]["cacheScope"])
    }
    again = modern_result(await modern_post(http, "tools/list"), "tools/list")
    assert [tool["name"] for tool in again["tools"]] == [tool["name"] for tool in pages[0]["tools"]]


async def test_every_result_carries_result_type(http):
    calls = [
        ("tools/call", {"name": "echo", "arguments": {"message": "hi"}}),
        ("prompts/get", {"name": "test_simple_prompt"}),
        (
            "completion/complete",
            {
                "ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
                "argument": {"name": "arg1", "value": "te"},
            },
        ),
    ]
    for method, params in calls:
        assert modern_result(await modern_post(http, method, params), method)["resultType"] == "complete"


async def test_a_missing_resource_is_invalid_params_never_empty_contents(http):
    response = await modern_post(http, "resources/read", {"uri": "test://nowhere"}, request_id=3)
    message = modern_error(response, 200, -32602)
    assert message["id"] == 3 and message["error"]["data"]["uri"] == "test://nowhere"


async def test_log_messages_only_when_the_request_asks_for_a_level(http):
    params = {"name": "test_tool_with_logging", "arguments": {}}
    quiet = modern_messages(await modern_post(http, "tools/call", params))
    assert [message for message in quiet if message.get("method") == "notifications/message"] == []
    loud_response = await modern_post(http, "tools/call", params, meta=request_meta(logLevel="debug"))
    loud = modern_messages(loud_response)
    assert loud_response.headers["content-type"].startswith("text/event-stream")
    assert [m["method"] for m in loud[:-1]] == ["notifications/message"] * 3
    assert loud[-1]["result"]["resultType"] == "complete"
    errors_only = modern_messages(
        await modern_post(http, "tools/call", params, meta=request_meta(logLevel="error"))
    )
    assert len(errors_only) == 1


async def test_a_session_client_is_unaffected_by_stateless_requests(session: McpClient):
    echoed = await session.call_tool("echo", {"message": "kept"})
    assert "kept" in echoed["content"][0]["text"]
    replay = await session.call_tool("replayLastEcho", {})
    assert "kept" in replay["content"][0]["text"]


async def test_with_the_stateless_era_off_modern_requests_get_the_session_versions(http, settings):
    settings.MCP_STATELESS = False
    error = modern_error(await modern_post(http, "server/discover"), 400, -32022)["error"]
    assert error["data"] == {"supported": SESSION_VERSIONS, "requested": MODERN}
