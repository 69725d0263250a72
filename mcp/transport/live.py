"""A stateless request's answer stream: in this process only, nothing kept for replay.

2026-07-28 has no ``Last-Event-ID`` and no sessions to resume in, so a stateless request's
messages go straight from its task to its HTTP response through a queue. As in the session
era the answer is JSON unless a message precedes the result (and the client accepts SSE).
Guarantees: the response ends with the result (or an error); closing the response cancels
the request's task and nothing further is sent for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings

from mcp.calls.streams import AnswerStream, JsonAnswer, SseAnswer
from mcp.policy.budget import encode_answer
from mcp.wire import sse

# Queue item marking the end of the stream; carries the final message (or None).
_END = object()


class LiveStream(AnswerStream):
    def __init__(self, *, accepts_json: bool, accepts_sse: bool) -> None:
        super().__init__(accepts_json=accepts_json, accepts_sse=accepts_sse)
        self.started = False
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    @property
    def streaming(self) -> bool:
        return self.started

    @property
    def can_stream(self) -> bool:
        return self.accepts_sse and not self.closed and (self.started or not self.decided.done())

    def _start(self) -> None:
        self.started = True
        self.decided.set_result(SseAnswer(""))

    async def emit(self, message: dict[str, Any]) -> bool:
        if not self.can_stream:
            return False
        if not self.started:
            self._start()
        self.queue.put_nowait(message)
        return True

    async def hang_up(self) -> bool:
        """Nothing to resume in this era: a stream is never cut on purpose."""
        return False

    async def finish(self, response: dict[str, Any] | None) -> None:
        if self.closed:
            return
        self.closed = True
        if not self.started:
            if not self.decided.done():
                self.decided.set_result(JsonAnswer(response or {}))
            return
        self.queue.put_nowait((_END, response))

    async def events(self, task: asyncio.Task[Any]) -> AsyncIterator[bytes]:
        """The SSE body; if the client goes away first, ``task`` is cancelled."""
        keepalive = settings.MCP_KEEPALIVE_INTERVAL
        try:
            while True:
                try:
                    item = await asyncio.wait_for(self.queue.get(), keepalive)
                except TimeoutError:
                    yield sse.comment()
                    continue
                if isinstance(item, tuple) and item[0] is _END:
                    if item[1] is not None:
                        yield sse.event(encode_answer(item[1]))
                    return
                yield sse.event(encode_answer(item))
        finally:
            if not task.done():
                task.cancel()
