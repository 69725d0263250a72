"""The wire: what MCP messages and headers are, with no I/O.

Owns JSON-RPC parsing and builders (jsonrpc), the SSE format (sse), protocol constants and
version negotiation (protocol), cursors (pagination), the header rules of both eras (headers,
routing_headers), the 2026-07-28 ``_meta`` rules (meta), the server's identity (identity),
what one HTTP request carried (request) and which client address it came from (peers).

May import: mcp.errors, mcp.redact, settings. Nothing else of mcp: every layer may import it.
"""
