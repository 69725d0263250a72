"""HTTP transports: ``/mcp`` (both eras, switched in ``endpoint``) and the 2024-11-05
HTTP+SSE transport (``legacy``). HTTP rules only; protocol work happens in ``mcp.dispatch.sessions``.
"""
