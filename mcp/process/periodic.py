"""A job the server process runs every few seconds in the background (the expiry sweep, the
statistics flush).

``start`` is idempotent and detaches the job from any request's context; a run that fails is
logged as one warning line and the next run goes on; ``stop`` cancels the job and waits for it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

from mcp.redact import describe_exception

logger = logging.getLogger("mcp.periodic")


class Periodic:
    def __init__(self, name: str, job: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.job = job
        self._task: asyncio.Task[None] | None = None

    def start(self, interval: float) -> None:
        if self._task is not None and not self._task.done():
            return
        # A fresh context: the loop must not inherit a request's context (asgiref executors).
        self._task = asyncio.get_running_loop().create_task(
            self._loop(interval), context=contextvars.Context()
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.job()
            except Exception as exc:
                logger.warning("%s failed: %s", self.name, describe_exception(exc))
