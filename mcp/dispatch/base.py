"""How one handler call is run, whatever the era: counted, timed, its exceptions passed on.

Both eras' tables (``mcp.dispatch.sessions``, ``mcp.dispatch.stateless``) call ``invoke``;
they do not import each other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp import figures
from mcp.store import StoreUnavailable

if TYPE_CHECKING:
    from mcp.calls.context import Context
    from mcp.wire import jsonrpc

Handler = Callable[["Context", dict[str, Any]], Awaitable[dict[str, Any]]]
NotificationHandler = Callable[["Context", dict[str, Any]], Awaitable[None]]

STORE_DOWN = "Service Unavailable: the session store is unreachable"


class NotCleared(RuntimeError):
    """A transport called a method table with a request the policy seam did not clear."""


async def invoke(ctx: Context, request: jsonrpc.Request, handler: Handler) -> dict[str, Any]:
    """``handler``'s result for ``request``, counted and timed; its exceptions pass through.

    Only a request cleared by the policy seam (``ctx.cleared``, set by ``mcp.policy.seam.clear``)
    runs: a path that skips the seam gets an internal error, never an unchecked call.
    """
    if ctx.cleared is not request:
        raise NotCleared(f"{request.method[:100]} reached the method table without the policy seam")
    started = time.perf_counter()
    try:
        result = await handler(ctx, request.params)
    except asyncio.CancelledError:
        figures.child(figures.REQUESTS, request.method, "cancelled").inc()
        raise
    except StoreUnavailable:
        # Not the handler's failure: the exchange answers 503 (see ``run``), never -32603.
        figures.child(figures.REQUESTS, request.method, "unavailable").inc()
        raise
    except Exception:
        figures.child(figures.REQUESTS, request.method, "error").inc()
        raise
    figures.child(figures.REQUESTS, request.method, "ok").inc()
    figures.child(figures.REQUEST_SECONDS, request.method).observe(time.perf_counter() - started)
    return result
