"""MCP Apps (``io.modelcontextprotocol/ui``): the extension is declared back to a client that
declares it (both eras), the tools name their ``ui://`` views, the views are served as
``text/html;profile=mcp-app`` with their CSP, and appProbeReport turns the reports into a verdict.
"""

from __future__ import annotations

import pytest

from mcp.tools.apps import summarize
from tests.support.client import McpClient
from tests.support.modern_client import modern_post, modern_result, request_meta

UI = "io.modelcontextprotocol/ui"
MIME = "text/html;profile=mcp-app"
HOST = {"extensions": {UI: {"mimeTypes": [MIME]}}}


async def test_a_session_that_declares_the_extension_gets_it_declared_back(mcp_client: McpClient):
    result = await mcp_client.initialize(capabilities=HOST)
    assert result["capabilities"]["extensions"][UI] == {"mimeTypes": [MIME]}


async def test_a_session_that_does_not_declare_it_is_not_offered_it(mcp_client: McpClient):
    result = await mcp_client.initialize(capabilities={"extensions": {"io.example/other": {}}})
    assert "extensions" not in result["capabilities"]


@pytest.mark.parametrize("capabilities", [HOST, {}])
async def test_discover_lists_every_extension_whoever_asks(http, capabilities):
    """server/discover is cached with scope "public": one answer for every caller."""
    response = await modern_post(http, "server/discover", {}, meta=request_meta(capabilities))
    extensions = modern_result(response, "server/discover")["capabilities"]["extensions"]
    assert extensions[UI] == {"mimeTypes": [MIME]}
    assert {"io.modelcontextprotocol/tasks", "io.modelcontextprotocol/skills"} <= set(extensions)


async def test_the_tools_name_their_views_and_the_report_tool_is_for_views_only(session: McpClient):
    tools = {tool["name"]: tool for tool in (await session.rpc("tools/list"))["result"]["tools"]}
    assert tools["appProbe"]["_meta"]["ui"] == {
        "resourceUri": "ui://echo/app-probe",
        "visibility": ["model", "app"],
    }
    assert tools["appProbe"]["_meta"]["ui/resourceUri"] == "ui://echo/app-probe"
    assert tools["appHostile"]["_meta"]["ui"]["resourceUri"] == "ui://echo/app-hostile"
    assert tools["appProbeReport"]["_meta"]["ui"] == {"visibility": ["app"]}


@pytest.mark.parametrize("uri", ["ui://echo/app-probe", "ui://echo/app-hostile"])
async def test_each_view_is_self_contained_html_with_its_csp_declared(session: McpClient, uri: str):
    listed = {r["uri"]: r for r in (await session.rpc("resources/list"))["result"]["resources"]}
    assert listed[uri]["mimeType"] == MIME
    assert listed[uri]["_meta"]["ui"]["csp"] == {"connectDomains": [], "resourceDomains": []}
    (content,) = (await session.rpc("resources/read", {"uri": uri}))["result"]["contents"]
    assert content["mimeType"] == MIME and content["uri"] == uri
    assert content["_meta"] == listed[uri]["_meta"]
    html = content["text"]
    assert html.startswith("<!doctype html>") and '"ui/initialize"' in html
    assert "<script src" not in html and "<link" not in html  # nothing to load from elsewhere


async def report(session: McpClient, check: str, outcome: str, probe: str = "p-1") -> dict:
    return await session.call_tool(
        "appProbeReport", {"probe": probe, "check": check, "outcome": outcome, "ms": 5, "detail": "{}"}
    )


async def test_the_reports_add_up_to_a_verdict_per_probe(session: McpClient):
    await report(session, "handshake", "ok")
    await report(session, "tools/call", "sent")
    await report(session, "ui/message", "absent")
    await report(session, "tools/call", "ok")
    await report(session, "handshake", "failed", probe="p-other")
    done = await report(session, "done", "ok")
    assert done["structuredContent"]["verdict"] == {
        "handshake": "ok",
        "tools/call": "ok",
        "ui/message": "absent",
    }
    text = done["content"][0]["text"].splitlines()
    assert text[0] == "MCP Apps host report: 2 of 3 checks honoured"
    assert text[3].startswith("- ui/message: absent (answered ui/message without an error)")


async def test_a_report_without_a_session_answers_but_keeps_nothing(http):
    arguments = {"probe": "p-1", "check": "handshake", "outcome": "ok"}
    response = await modern_post(http, "tools/call", {"name": "appProbeReport", "arguments": arguments})
    result = modern_result(response, "tools/call")
    assert result["structuredContent"]["verdict"] == {"handshake": "ok"}
    assert "not kept" in result["content"][0]["text"]


def test_the_verdict_keeps_the_last_outcome_in_report_order():
    history = [
        {"probe": "a", "check": "size-changed", "outcome": "absent"},
        {"probe": "a", "check": "custom", "outcome": "ok"},
        {"probe": "a", "check": "handshake", "outcome": "ok"},
        {"probe": "a", "check": "size-changed", "outcome": "ok"},
        {"probe": "b", "check": "handshake", "outcome": "failed"},
        "not a report",
    ]
    assert list(summarize("a", history).items()) == [
        ("handshake", "ok"),
        ("size-changed", "ok"),
        ("custom", "ok"),
    ]
