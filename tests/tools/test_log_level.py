"""Log messages obey the client, in both eras, for every tool that sends notifications/message.

Within a session, ``logging/setLevel`` sets the lowest level sent (everything before it is
set). In 2026-07-28 a request gets log messages only when its ``_meta`` asks for a level, and
only at or above it. Ignoring the level is a fault (``ignoreLogLevel``), never the default.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp.bus import OUTBOX, get_bus
from tests.support.client import McpClient, messages_of
from tests.support.modern_client import modern_messages, modern_post, request_meta

LOGGING_TOOLS = [
    ("sendNotifications", {"count": 2, "target": "request", "level": "info"}),
    ("test_tool_with_logging", {}),
]


def logs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["params"] for m in messages if m.get("method") == "notifications/message"]


async def call(client: McpClient, name: str, arguments: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.request("tools/call", {"name": name, "arguments": arguments})
    assert response.status_code == 200, response.text
    return messages_of(response)


async def outbox_logs(client: McpClient) -> list[dict[str, Any]]:
    bus = get_bus()
    if not await bus.exists(client.session_id, OUTBOX):
        return []
    events = await bus.read(client.session_id, OUTBOX, 0, 0)
    return [
        e.message["params"]
        for e in events
        if e.message and e.message.get("method") == "notifications/message"
    ]


@pytest.mark.parametrize(("tool", "arguments"), LOGGING_TOOLS)
async def test_a_session_gets_no_log_message_below_its_level(session: McpClient, tool, arguments):
    await session.rpc("logging/setLevel", {"level": "error"})
    messages = await call(session, tool, arguments)
    assert logs(messages) == []
    assert "result" in messages[-1]


@pytest.mark.parametrize(("tool", "arguments"), LOGGING_TOOLS)
async def test_a_session_gets_log_messages_at_its_level(session: McpClient, tool, arguments):
    await session.rpc("logging/setLevel", {"level": "info"})
    assert {log["level"] for log in logs(await call(session, tool, arguments))} == {"info"}


async def test_send_notifications_says_why_it_sent_nothing(session: McpClient):
    await session.rpc("logging/setLevel", {"level": "error"})
    text = await session.tool_text("sendNotifications", {"count": 3, "level": "warning"})
    assert (
        text
        == "0 of 3 notifications sent: 'warning' is below the client's log level 'error' (logging/setLevel)"
    )
    assert await outbox_logs(session) == []
    text = await session.tool_text("sendNotifications", {"count": 2, "level": "critical"})
    assert text == "2 notifications queued on the session's GET stream"
    assert [log["level"] for log in await outbox_logs(session)] == ["critical", "critical"]


async def test_ignoring_the_level_is_a_fault_marked_in_the_record(session: McpClient):
    await session.rpc("logging/setLevel", {"level": "error"})
    await session.call_tool("setFaults", {"seed": 1, "ignoreLogLevel": {}})
    messages = await call(session, "sendNotifications", {"count": 2, "target": "request", "level": "debug"})
    assert [log["level"] for log in logs(messages)] == ["debug", "debug"]
    record = await session.call_tool("trafficLog", {})
    assert "ignore_log_level" in str(record)


# --- 2026-07-28 ----------------------------------------------------------------------------------


async def modern_logs(http, tool: str, arguments: dict[str, Any], **meta: Any) -> list[dict[str, Any]]:
    response = await modern_post(
        http, "tools/call", {"name": tool, "arguments": arguments}, meta=request_meta(**meta)
    )
    assert response.status_code == 200, response.text
    messages = modern_messages(response)
    assert "result" in messages[-1]
    return logs(messages)


@pytest.mark.parametrize(("tool", "arguments"), LOGGING_TOOLS)
async def test_a_stateless_request_that_asked_for_no_level_gets_no_log_message(http, tool, arguments):
    assert await modern_logs(http, tool, arguments) == []


@pytest.mark.parametrize(("tool", "arguments"), LOGGING_TOOLS)
async def test_a_stateless_request_gets_log_messages_at_or_above_its_level_only(http, tool, arguments):
    assert await modern_logs(http, tool, arguments, logLevel="warning") == []
    assert {log["level"] for log in await modern_logs(http, tool, arguments, logLevel="info")} == {"info"}
