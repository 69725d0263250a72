"""The official Python SDK 2.x client (a 2026-07-28 client) against the server under test.

Run in the SDK 2.x virtualenv: ``python client.py URL MODE`` (MODE: ``2026-07-28`` or
``auto``). It connects, lists tools, calls echo, completes a sampling round trip (the server
answers input_required; the SDK calls ``sampling_callback`` and retries), and holds a
subscriptions/listen stream until a tools list change arrives (triggered by a tool call on
another connection). Prints one JSON object per step on stdout; exits non-zero on failure.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import mcp_types as types

from mcp import Client

SAMPLED = "sampled by the python 2.x client"
TIMEOUT = 30.0


def report(step: str, **data: Any) -> None:
    print(json.dumps({"step": step, **data}), flush=True)


async def sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text=SAMPLED), model="echo-model"
    )


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def main(url: str, mode: str) -> None:
    async with Client(url, mode=mode, sampling_callback=sampling) as client:
        report("connected", version=client.session.protocol_version)
        tools = await client.list_tools()
        report("tools", names=[tool.name for tool in tools.tools])
        report("echo", text=text_of(await client.call_tool("echo", {"message": "hello from python 2.x"})))
        sampled = await client.call_tool("requestSampling", {"prompt": "Say something"})
        report("sampling", text=text_of(sampled), isError=bool(sampled.is_error))
        async with asyncio.timeout(TIMEOUT), client.listen(tools_list_changed=True) as subscription:
            report("listening", honored=subscription.honored.model_dump(exclude_none=True))
            async with Client(url, mode="2026-07-28") as other:
                await other.call_tool("triggerListChanged", {"kind": "tools"})
            async for event in subscription:
                report("event", type=type(event).__name__)
                break


def run(scenario: Any) -> None:
    """``scenario(URL, MODE)`` from the command line; a failure is reported, exit status 1."""
    try:
        asyncio.run(scenario(sys.argv[1], sys.argv[2]))
    except Exception as exc:  # the test reads the failure from stdout
        detail = [repr(inner) for inner in getattr(exc, "exceptions", ())]
        report("failed", error=f"{type(exc).__name__}: {exc}", detail=detail)
        sys.exit(1)


if __name__ == "__main__":
    run(main)
