"""The MCP protocol app: Streamable HTTP transport, sessions, tools, status pages.

Not the official Python SDK (also importable as ``mcp``); never install both in one
environment.
"""
