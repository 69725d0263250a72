"""The keys this server adds to an ASGI request's ``scope``, named once.

The ASGI handler (``echoserver.handler``) sets what it measured or read before the view runs;
the transports leave what they parsed; the observer (``mcp.ops.observe``) reads it all after
the response, so no exchange is parsed twice. Each key is a plain string in the scope: other
ASGI components may read them, none may rely on them being present.
"""

from __future__ import annotations

# (time.time(), time.perf_counter()) when the request arrived (set by the ASGI handler).
RECEIVED = "mcp.received"
# The request's whole body, as read once by the handler (bytes).
BODY = "mcp.body"
# True when the body was refused past MCP_MAX_BODY_BYTES before it was read in full.
BODY_TOO_LARGE = "mcp.body_too_large"
# The JSON-RPC facts of the body (``mcp.wire.jsonrpc.facts``), left by the transport.
RPC = "mcp.rpc"
# The request's ``RequestInfo`` snapshot (principal, marks), left by the transport.
INFO = "mcp.info"
# Which era of /mcp answered: "2025" or "2026" (the legacy paths are told by their path).
ERA = "mcp.era"
# The id of the exchange in logs and the traffic record (set by the observer).
REQUEST_ID = "mcp.request_id"
