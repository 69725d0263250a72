"""What a verified bearer token may do beyond being valid: step-up scopes, and how long a stream lasts.

Guarantees:

- ``check_step_up`` (embedded mode) refuses a tools/call of a tool that needs the step-up
  scope with 403 ``insufficient_scope`` and a challenge naming the scopes to ask for.
- ``while_authorized`` (embedded mode) ends a stream opened with a token that is then revoked;
  it checks before every item it passes on, so an idle stream ends within one keep-alive
  interval. Expiry does not end a stream (a stream may outlive its token, as in jwt mode).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from django.conf import settings

from mcp.auth import bearer as auth
from mcp.errors import Forbidden
from mcp.wire.request import RequestInfo

logger = logging.getLogger("mcp.auth")


def check_step_up(info: RequestInfo, tool: str) -> None:
    """Embedded mode: 403 insufficient_scope when ``tool`` needs the step-up scope.

    A tool needs it when MCP_OAUTH_STEP_UP_TOOLS names it, or when the token's
    ``mcp_step_up_tools`` claim (the step_up misbehaviour, signed by our own authorization
    server) does. The challenge asks for the scopes the token has plus the step-up scope, so
    a client that re-authorizes with it keeps what it had (MCP 2025-11-25, scope challenges).
    """
    if info.auth is None or settings.MCP_AUTH != "embedded":
        return
    claimed = info.auth.get("mcp_step_up_tools")
    tools = set(settings.MCP_OAUTH_STEP_UP_TOOLS)
    if isinstance(claimed, list):
        tools.update(item for item in claimed if isinstance(item, str))
    scope = settings.MCP_OAUTH_STEP_UP_SCOPE
    granted = auth.granted_scopes(info.auth)
    if tool not in tools or scope in granted:
        return
    config = auth.current_config()
    wanted = tuple(dict.fromkeys([*config.required_scopes, *sorted(granted), scope]))
    description = f"the tool {tool[:100]!r} needs the scope {scope}"
    raise Forbidden(
        f"Forbidden: {description}",
        headers={
            "WWW-Authenticate": auth.challenge(
                config, error="insufficient_scope", description=description, scopes=wanted
            )
        },
    )


async def while_authorized(events: AsyncIterator[bytes], info: RequestInfo) -> AsyncIterator[bytes]:
    """``events`` until the token that opened the stream is revoked (embedded mode)."""
    jti = info.auth.get("jti") if info.auth is not None else None
    if settings.MCP_AUTH != "embedded" or not jti:
        async for item in events:
            yield item
        return
    from mcp.oauth import revocation

    try:
        async for item in events:
            if await revocation.is_revoked(jti):
                logger.info(
                    "stream of %r closed: the token that opened it was revoked", str(info.principal)[:100]
                )
                return
            yield item
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
