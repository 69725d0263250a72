"""How one handler call is run, whatever the era: cleared by the policy seam, its exceptions
passed on.

Both eras' tables (``mcp.dispatch.sessions``, ``mcp.dispatch.stateless``) call ``invoke``;
they do not import each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp import figures

if TYPE_CHECKING:
    from mcp.calls.context import Context
    from mcp.wire import jsonrpc

Handler = Callable[["Context", dict[str, Any]], Awaitable[dict[str, Any]]]
NotificationHandler = Callable[["Context", dict[str, Any]], Awaitable[None]]

STORE_DOWN = "Service Unavailable: the session store is unreachable"


class NotCleared(RuntimeError):
    """A transport called a method table with a request the policy seam did not clear."""


async def invoke(ctx: Context, request: jsonrpc.Request, handler: Handler) -> dict[str, Any]:
    """``handler``'s result for ``request``; its exceptions pass through. (The exchange that
    carried it is counted and timed once, by the access observer: ``mcp.figures``; a cancelled
    handler is counted here, where the cancellation lands.)

    Only a request cleared by the policy seam (``ctx.cleared``, set by ``mcp.policy.seam.clear``)
    runs: a path that skips the seam gets an internal error, never an unchecked call.
    """
    if ctx.cleared is not request:
        raise NotCleared(f"{request.method[:100]} reached the method table without the policy seam")
    try:
        return await handler(ctx, request.params)
    except asyncio.CancelledError:
        figures.child(figures.CANCELLED, request.method).inc()
        raise
