"""Injected faults are marked in the session's recorded traffic, and the record is exported
as HAR 1.2 or JSON lines: to the session's own client (exportTraffic) and to staff.
"""

from __future__ import annotations

import orjson
import pytest
from django.test import override_settings

from mcp.store import get_store
from mcp.traffic import record as traffic
from tests.support.admin import CHANGELIST, login, run_action
from tests.support.client import McpClient


async def set_faults(client: McpClient, **profile) -> None:
    result = await client.call_tool("setFaults", profile)
    assert "isError" not in result, result


async def export(client: McpClient, fmt: str = "jsonl") -> str:
    result = await client.call_tool("exportTraffic", {"format": fmt})
    [block] = result["content"]
    assert block["type"] == "resource"
    return block["resource"]["text"]


async def marked(client: McpClient) -> list[tuple[str | None, int, list[str]]]:
    lines = [orjson.loads(line) for line in (await export(client)).splitlines()]
    return [(line["method"], line["status"], line["marks"]) for line in lines if line["marks"]]


@pytest.mark.parametrize(
    "profile, status, marks",
    [
        ({"latency": {"ms": 5}}, 200, ["latency"]),
        ({"toolError": {"rate": 1}}, 200, ["tool_error"]),
        ({"toolError": {"rate": 1, "as": "jsonrpc"}}, 200, ["rpc_error"]),
        ({"httpError": {"rate": 1, "status": 500}}, 500, ["http_500"]),
        ({"httpError": {"rate": 1, "status": 503}}, 503, ["http_503"]),
        ({"unauthorized": {}}, 401, ["unauthorized"]),
        ({"oversized": {"bytes": 5000}}, 200, ["oversized"]),
        ({"listChangedBurst": {"count": 3}}, 200, ["list_changed_burst"]),
    ],
)
async def test_each_fault_is_marked_in_the_recorded_traffic(session, profile, status, marks):
    await set_faults(session, seed=1, **profile)
    response = await session.request("tools/call", {"name": "echo", "arguments": {"message": "x"}})
    assert response.status_code == status
    await set_faults(session, clear=True)
    assert await marked(session) == [("tools/call", status, marks)]


async def test_the_404s_of_an_expired_session_are_marked_and_kept(session):
    await set_faults(session, seed=1, expire={})
    assert (await session.request("ping")).status_code == 404
    assert (await session.request("tools/list")).status_code == 404
    entries = await traffic.recent(get_store(), session.session_id)
    assert [(e["method"], e["status"], e["marks"]) for e in entries[-2:]] == [
        ("ping", 404, ["expire"]),
        ("tools/list", 404, ["expire"]),
    ]


async def test_the_har_export_has_one_entry_per_recorded_exchange(session):
    await set_faults(session, seed=1, httpError={"rate": 1})
    await session.request("ping")
    await set_faults(session, clear=True)
    await session.call_tool("printHeader", {})
    recorded = await traffic.recent(get_store(), session.session_id)
    har = orjson.loads(await export(session, "har"))
    entries = har["log"]["entries"]
    assert len(entries) == len(recorded)
    assert [e["response"]["status"] for e in entries] == [e["status"] for e in recorded]
    assert ["http_503"] in [e["_mcp"]["marks"] for e in entries]


async def test_exports_mask_credentials(http):
    client = McpClient(http, extra_headers={"Authorization": "Bearer sk-live-SECRETVALUE-1234567890"})
    await client.initialize()
    await client.rpc("ping")
    for fmt in ("har", "jsonl"):
        text = await export(client, fmt)
        assert "SECRETVALUE" not in text and "sk-l…[30 chars redacted]" in text


async def test_with_recording_off_the_export_is_empty(mcp_client):
    with override_settings(MCP_TRAFFIC_LOG=0):
        await mcp_client.initialize()
        await mcp_client.rpc("ping")
        assert orjson.loads(await export(mcp_client, "har"))["log"]["entries"] == []


# --- Staff endpoint ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_staff_download_the_har_of_any_session(session, async_client, admin_user):
    await session.rpc("ping")
    url = f"/ops/traffic/{session.session_id}.har"
    anonymous = await async_client.get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    await async_client.aforce_login(admin_user)
    response = await async_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert f'filename="mcp-session-{session.session_id[:8]}.har"' in response["Content-Disposition"]
    har = orjson.loads(response.content)
    assert har["log"]["version"] == "1.2" and har["log"]["entries"]
    lines = await async_client.get(f"/ops/traffic/{session.session_id}.jsonl")
    assert lines["Content-Type"] == "application/x-ndjson" and lines.content.count(b"\n") >= 1
    assert (await async_client.get("/ops/traffic/unknown.har")).status_code == 404
    assert (await async_client.get(f"/ops/traffic/{session.session_id}.zip")).status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_a_user_who_is_not_staff_is_sent_to_log_in(session, async_client, django_user_model):
    user = await django_user_model.objects.acreate(username="plain", is_staff=False)
    await async_client.aforce_login(user)
    response = await async_client.get(f"/ops/traffic/{session.session_id}.har")
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_the_admin_action_downloads_the_selected_sessions_har(http, admin_user, session):
    await session.rpc("ping")
    await login(http)
    page = await http.get(CHANGELIST)
    assert "Export the selected session" in page.text
    answer = await run_action(http, "export_har", session.session_id, page.text)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"/ops/traffic/{session.session_id}.har"
    download = await http.get(answer.headers["location"])
    assert download.status_code == 200
    assert orjson.loads(download.content)["log"]["entries"]
