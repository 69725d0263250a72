"""Which extensions (``capabilities.extensions``) this server offers, in each era.

- skills (``io.modelcontextprotocol/skills``, ``directoryRead: true``) while the skills toolset
  is on;
- MCP Apps (``io.modelcontextprotocol/ui``, with the ``text/html;profile=mcp-app`` mime type).

A session (``initialize``) is offered the ones its client declared, as negotiation goes: both
sides name what they use, and a session's recorded initialize answer (kept for its lifetime)
carries no more than it needs. ``server/discover`` (2026-07-28) lists every one the server has:
its result is cached with scope "public", the same answer for every caller, and a stateless
client states its own extensions on each request. The tasks extension of 2026-07-28 is added
by the stateless era itself (``wire.meta``).
"""

from __future__ import annotations

from typing import Any

from mcp.handlers import skills
from mcp.tools import apps


def available() -> dict[str, Any]:
    """Every extension this server has, with its settings."""
    return {**skills.extensions(), **apps.extensions()}


def offered(client_capabilities: dict[str, Any] | None) -> dict[str, Any]:
    """The extensions both this server and the client (``initialize`` capabilities) declare."""
    declared = (client_capabilities or {}).get("extensions")
    if not isinstance(declared, dict):
        return {}
    return {name: value for name, value in available().items() if isinstance(declared.get(name), dict)}
