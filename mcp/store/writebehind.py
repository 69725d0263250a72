"""Write-behind batching: writes queued in process, handed to the store in batches.

``add`` queues an item and returns at once. One flusher task per event loop takes the whole
queue and awaits ``write(batch)`` (one round trip for the batch); items queued meanwhile
make the next batch. So under load many writers share one round trip, and an idle writer's
item is written in the next event-loop turn.

Guarantees:
- Every item added is handed to ``write`` exactly once, in the order added, within one
  ``write`` round trip after the one in flight (if any) ends.
- ``flush()`` returns once everything added before it was called has been written or has
  failed: a reader that flushes first reads its own writes.
- A failed batch is logged (one warning line, no traceback) and dropped: the items are
  best-effort records, and the writer that queued them has already moved on. A batch in
  flight when its event loop ends is lost too (the stores' ``close()`` flushes first).
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
    def __init__(self, write: Callable[[list[T]], Awaitable[None]], *, what: str) -> None:
        self._write = write
        self._what = what
        self._queue: list[T] = []
        # Resolved when the queued items, and the batch in flight, have been written.
        self._queued: asyncio.Future[None] | None = None
        self._in_flight: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def add(self, item: T) -> None:
        self._queue.append(item)
        self._start(asyncio.get_running_loop())

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is not None and self._task.get_loop() is not loop:
            # The flusher of an event loop that has ended (tests run one loop per test)
            # never runs again: this loop's flusher takes over the queue.
            self._task = self._queued = self._in_flight = None
        if not self._queue:
            return
        if self._queued is None:
            self._queued = loop.create_future()
        if self._task is None:
            self._task = loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, done = self._queue, self._queued
                self._queue, self._queued, self._in_flight = [], None, done
                try:
                    await self._write(batch)
                except Exception as exc:
                    logger.warning("%s not written: %s", self._what, describe_exception(exc))
                finally:
                    self._in_flight = None
                    if done is not None and not done.done():
                        done.set_result(None)
        finally:
            if self._task is asyncio.current_task():
                self._task = None

    async def flush(self) -> None:
        self._start(asyncio.get_running_loop())
        # The queued batch is written after the one in flight: waiting for it is enough.
        done = self._queued or self._in_flight
        if done is not None:
            # Shielded: a reader that is cancelled does not cancel the writes of others.
            await asyncio.shield(done)
