"""Hold a 2025-11-25 session with the official Python SDK 1.x while other clients work.

Usage: python hold.py URL MESSAGE. Initializes, echoes MESSAGE and prints one JSON line (the
session id and version); then waits for a line on stdin, replays the last echo in the same
session, prints a second JSON line and exits. Runs in the SDK's own virtualenv.
"""

from __future__ import annotations

import asyncio
import json
import sys

from mcp.client.streamable_http import streamablehttp_client

from mcp import ClientSession


async def run(url: str, message: str) -> None:
    async with (
        streamablehttp_client(url) as (read, write, get_session_id),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        await session.call_tool("echo", {"message": message})
        print(
            json.dumps({"sessionId": get_session_id(), "protocolVersion": init.protocolVersion}), flush=True
        )
        await asyncio.to_thread(sys.stdin.readline)
        replay = await session.call_tool("replayLastEcho", {})
        texts = [block.text for block in replay.content if getattr(block, "type", None) == "text"]
        print(json.dumps({"replay": texts, "isError": bool(replay.isError)}), flush=True)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2]))
