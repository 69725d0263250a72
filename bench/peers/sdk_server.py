"""P1: the official Python SDK (``mcp`` 2.3.0), stateful streamable HTTP, one echo tool.

``--json`` answers requests with application/json (``json_response=True``), otherwise SSE
(the SDK's default). ``notify`` sends notifications/tools/list_changed on the session's GET
stream (scenario S5). Quiet logging and no session cap, as the bench measures throughput.
Run in the SDK's own virtualenv (the SDK is also named ``mcp``).
"""

from __future__ import annotations

import argparse

import uvicorn
from mcp.server.mcpserver import Context, MCPServer


def build(json_response: bool):
    server = MCPServer("bench-python-sdk", log_level="WARNING")

    @server.tool()
    async def echo(message: str) -> str:
        """Echo the message."""
        return f"Echo: {message}"

    @server.tool()
    async def notify(ctx: Context) -> str:
        """Send notifications/tools/list_changed on the session's GET stream."""
        await ctx.session.send_tool_list_changed()
        return "sent"

    return server.streamable_http_app(json_response=json_response, max_sessions=None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    uvicorn.run(build(args.json), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
