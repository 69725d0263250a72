"""HTTP transports: ``/mcp`` (both eras, switched in ``endpoint``) and the 2024-11-05
HTTP+SSE transport (``legacy``). HTTP rules only; protocol work happens in ``mcp.dispatch``.

May import every layer below it (dispatch, handlers, tools, sessions, calls, auth, faults,
store, bus, wire); never ``mcp.ops``, which sits beside it. The three eras' modules
(sessions, stateless, legacy) do not import each other.
"""
