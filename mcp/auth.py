"""OAuth 2.1 resource-server mode (MCP_AUTH=jwt): bearer tokens verified on every request.

Placeholder interface; see ``authenticate``.
"""

from __future__ import annotations

from django.conf import settings

from mcp.context import RequestInfo


async def authenticate(info: RequestInfo) -> None:
    """Verify the request's bearer token and set ``info.principal`` / ``info.auth``.

    No-op when MCP_AUTH is "none". Raises ``mcp.errors.Unauthorized`` (401, with
    ``WWW-Authenticate: Bearer resource_metadata=...``) for a missing or invalid token and
    ``mcp.errors.Forbidden`` (403, ``insufficient_scope``) for missing scopes.
    """
    if settings.MCP_AUTH == "none":
        return
    raise NotImplementedError("MCP_AUTH=jwt is being implemented")
