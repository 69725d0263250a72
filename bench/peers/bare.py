"""P0, the ceiling: the least an ASGI server can do per MCP-shaped request.

It reads the whole body and answers like an MCP server would on the same wire (a JSON-RPC
result, a session header on initialize, 202 for notifications, 204 for DELETE) without
parsing JSON or keeping state. Run with the same uvicorn (uvloop, httptools) as the server.
"""

from __future__ import annotations

RESULT = b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"Echo: hi"}]}}'
INIT = b'{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{}}}'


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json")]
    if scope["method"] == "DELETE":
        status, payload, headers = 204, b"", []
    elif b'"notifications/' in body:
        status, payload, headers = 202, b"", []
    elif b'"initialize"' in body:
        status, payload = 200, INIT
        headers.append((b"mcp-session-id", b"0123456789abcdef0123456789abcdef"))
    else:
        status, payload = 200, RESULT
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
