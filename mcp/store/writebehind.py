"""Write-behind batching: writes queued in process, sent to the store together.

``add`` queues an item and returns at once. What is queued goes to the store as one batch
(``write(batch)``, one command) ahead of the store's next command of its own (the store calls
``send`` first, so both share one round trip), or ``delay`` seconds after the first item was
queued, whichever comes first. ``write`` is called synchronously and must queue its command
before it returns (an awaitable of the outcome), so a batch sent ahead of a command reaches
the store before that command does.

Guarantees:
- Every item added is handed to ``write`` exactly once, in the order added, within ``delay``
  seconds (sooner when the store sends a command); batches are sent in the order made.
- ``flush()`` returns once everything added before it was called has been written or has
  failed: a reader that flushes first reads its own writes.
- A failed batch is logged (one warning line, no traceback) and dropped: the items are
  best-effort records, and the writer that queued them has already moved on. A batch
  queued or in flight when its event loop ends is lost too (the stores' ``close()``
  flushes first).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from mcp.redact import describe_exception

logger = logging.getLogger("mcp.store")

T = TypeVar("T")


class WriteBehind(Generic[T]):
    def __init__(
        self, write: Callable[[list[T]], Awaitable[object]], *, what: str, delay: float = 0.0
    ) -> None:
        self._write = write
        self._what = what
        self.delay = delay
        self._queue: list[T] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.Handle | None = None
        # Outcomes of the batches sent and not yet answered.
        self._sent: set[asyncio.Future[object]] = set()

    def _adopt(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # An ended event loop (tests run one per test) never runs its timer or answers
            # its batches again: this loop takes the queue over.
            self._loop, self._timer, self._sent = loop, None, set()
        return loop

    def add(self, item: T) -> None:
        loop = self._adopt()
        self._queue.append(item)
        if self._timer is None:
            self._timer = (
                loop.call_later(self.delay, self.send) if self.delay > 0 else loop.call_soon(self.send)
            )

    def send(self) -> None:
        """Send what is queued now (a store calls this ahead of each command of its own)."""
        if not self._queue:
            return
        self._adopt()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._queue = self._queue, []
        try:
            outcome = asyncio.ensure_future(self._write(batch))
        except Exception as exc:
            self._report(exc)
            return
        self._sent.add(outcome)
        outcome.add_done_callback(self._settled)

    def _settled(self, outcome: asyncio.Future[object]) -> None:
        self._sent.discard(outcome)
        error = None if outcome.cancelled() else outcome.exception()
        if error is not None:
            self._report(error)

    def _report(self, exc: BaseException) -> None:
        logger.warning("%s not written: %s", self._what, describe_exception(exc))

    async def flush(self) -> None:
        self.send()
        self._adopt()
        if self._sent:
            # asyncio.wait: a reader that is cancelled does not cancel the writes of others.
            await asyncio.wait(set(self._sent))
