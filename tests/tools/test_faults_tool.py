"""setFaults as a client sees it: set, report, preview and clear its own session's profile."""

from __future__ import annotations

import pytest
from django.test import override_settings

from mcp.faults.profile import normalize
from mcp.store import get_store
from tests.support.client import McpClient


async def set_faults(client: McpClient, **arguments) -> dict:
    return await client.call_tool("setFaults", arguments)


async def test_a_profile_is_set_reported_and_cleared(session):
    result = await set_faults(session, seed=5, httpError={"rate": 0.5}, preview=4)
    assert "isError" not in result
    report = result["structuredContent"]
    assert report["source"] == "session"
    assert report["profile"] == {"seed": 5, "httpError": {"rate": 0.5, "status": 503, "retryAfter": 1}}
    assert len(report["preview"]) == 4
    assert "Fault profile in force (session):" in result["content"][0]["text"]

    again = (await set_faults(session))["structuredContent"]
    assert again["profile"] == report["profile"]

    cleared = (await set_faults(session, clear=True))["structuredContent"]
    assert cleared == {"source": "cleared", "profile": None}


async def test_the_preview_is_what_the_seed_gives(session):
    first = (await set_faults(session, seed=11, toolError={"rate": 0.5}, preview=20))["structuredContent"]
    second = (await set_faults(session, seed=11, toolError={"rate": 0.5}, preview=20))["structuredContent"]
    assert first["preview"] == second["preview"]
    assert ["tool_error"] in first["preview"] and [] in first["preview"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"httpError": {"rate": 7}}, "rate"),
        ({"clear": True, "expire": {}}, "clear: true takes no fault fields"),
        ({"sessionId": "someone-else", "expire": {}}, "sessionId"),
        ({"oversized": {"bytes": 10**9}}, "at most"),
    ],
)
async def test_a_bad_profile_is_an_error_result_and_changes_nothing(session, arguments, message):
    await set_faults(session, seed=1, latency={"ms": 5})
    result = await set_faults(session, **arguments)
    assert result["isError"] is True
    assert message in result["content"][0]["text"]
    assert (await set_faults(session))["structuredContent"]["profile"]["latency"] == {"ms": 5, "rate": 1}


async def test_a_profile_is_kept_with_its_own_session_only(http, session):
    other = McpClient(http)
    await other.initialize(client_name="other")
    await set_faults(session, seed=1, expire={"after": 3})
    stored = await get_store().get(session.session_id, touch=False)
    assert stored is not None and stored.state["faults"]["profile"]["expire"] == {"after": 3}
    assert (await set_faults(other))["structuredContent"] == {"source": "none", "profile": None}


async def test_the_server_wide_profile_applies_until_the_session_clears_it(session):
    server_wide = normalize({"seed": 3, "latency": {"ms": 1}}, max_bytes=4096)
    with override_settings(MCP_FAULTS=server_wide):
        assert (await set_faults(session))["structuredContent"] == {
            "source": "server",
            "profile": server_wide,
        }
        assert (await set_faults(session, clear=True))["structuredContent"]["source"] == "cleared"


async def test_set_faults_declares_its_output_schema(session):
    tools = {tool["name"]: tool for tool in (await session.rpc("tools/list"))["result"]["tools"]}
    assert tools["setFaults"]["outputSchema"]["required"] == ["source", "profile"]
    assert "additionalProperties" in tools["setFaults"]["inputSchema"]
