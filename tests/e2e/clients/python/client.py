"""Drive the server with the official MCP Python SDK; print one JSON line of what happened.

Usage: python client.py URL [MESSAGE]. Runs in the SDK's own virtualenv (tests/e2e/deps.py),
never in this project's environment, where ``mcp`` is the Django app (which is why ruff
files ``from mcp import`` as first-party and sorts it after the SDK's submodule).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from mcp.client.streamable_http import streamablehttp_client

from mcp import ClientSession

TIMEOUT = 60.0


def texts(result: Any) -> list[str]:
    return [block.text for block in result.content if getattr(block, "type", None) == "text"]


async def run(url: str, message: str) -> dict[str, Any]:
    async with (
        streamablehttp_client(url) as (read, write, get_session_id),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        tools = await session.list_tools()
        echo = await session.call_tool("echo", {"message": message})
        replay = await session.call_tool("replayLastEcho", {})
        session_id = get_session_id()
    return {
        "sdk": "python",
        "protocolVersion": init.protocolVersion,
        "serverName": init.serverInfo.name,
        "sessionId": session_id,
        "tools": [tool.name for tool in tools.tools],
        "echo": texts(echo),
        "echoIsError": bool(echo.isError),
        "replay": texts(replay),
        "replayIsError": bool(replay.isError),
    }


def main() -> None:
    url = sys.argv[1]
    message = sys.argv[2] if len(sys.argv) > 2 else "hello from the Python SDK"
    outcome = asyncio.run(asyncio.wait_for(run(url, message), TIMEOUT))
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
