"""Graceful shutdown: after SIGTERM the process drains instead of dropping clients.

Draining means: /health answers 503 (a balancer stops sending new work here), and every open
SSE stream ends with a ``retry:`` hint, so its client reconnects, through the balancer, to
another process (which serves the same sessions from the shared store). Nothing is deleted:
the sessions stay in the store. The ASGI server then finds no open connection to wait for
and exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from mcp.wire import sse

logger = logging.getLogger("mcp.lifecycle")

_draining = False
# One future per open stream, resolved when draining begins (futures of whatever loop runs).
_waiters: set[asyncio.Future[None]] = set()


def active() -> bool:
    return _draining


def begin() -> None:
    """Start draining (idempotent)."""
    global _draining
    if _draining:
        return
    _draining = True
    logger.info("draining: readiness off, ending open streams with a retry hint")
    for waiter in list(_waiters):
        if not waiter.done():
            waiter.set_result(None)


def reset() -> None:
    """Forget the drain state (tests)."""
    global _draining
    _draining = False


def install_signal_handler() -> None:
    """Chain a SIGTERM handler in front of the server's own (uvicorn, gunicorn's asgi worker)."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        loop.call_soon_threadsafe(begin)
        if callable(previous):
            previous(signum, frame)

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:
        pass  # not the main thread: the embedding server handles shutdown on its own


async def until_drained(source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``source``'s chunks until the process drains; then a ``retry:`` line, and the end.

    The source runs in the caller's own task, so a chunk is written the moment the source
    yields it (no task and no hand-over per chunk). Draining interrupts the source where it
    waits (a cancellation scoped to that wait), so its own clean-up (finally blocks) runs.
    """
    if _draining:
        yield sse.retry(settings.MCP_SSE_RETRY_MS)
        return
    drained: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    # The scope around the source's current step, while it runs.
    running: list[asyncio.Timeout] = []

    def interrupt(_: asyncio.Future[None]) -> None:
        if running and not drained.cancelled():
            running[0].reschedule(0)  # expires at once: the step is cancelled, the scope says so

    drained.add_done_callback(interrupt)
    _waiters.add(drained)
    iterator = aiter(source)
    try:
        while not drained.done():
            scope = asyncio.timeout(None)
            try:
                async with scope:
                    running.append(scope)
                    try:
                        chunk = await anext(iterator)
                    finally:
                        running.clear()
            except StopAsyncIteration:
                return
            except TimeoutError:
                if scope.expired():
                    break
                raise
            yield chunk
        yield sse.retry(settings.MCP_SSE_RETRY_MS)
    finally:
        _waiters.discard(drained)
        drained.remove_done_callback(interrupt)
        drained.cancel()
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
