"""Where one POSTed request's messages go, and whether the answer is JSON or SSE.

The choice is made lazily, by the first message: a handler that returns without emitting
anything is answered with ``application/json`` (when the client accepts it); the first
notification or server-to-client request switches the answer to ``text/event-stream``
(when the client accepts it). Once in SSE mode every message is published to the bus
before it is written, so a client that loses the connection can resume with
``Last-Event-ID`` and nothing is lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from mcp.bus import OUTBOX, Bus


@dataclass(frozen=True, slots=True)
class JsonAnswer:
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SseAnswer:
    stream: str


class AnswerStream:
    """What every request's answer path shares: the client's Accept, and the decision (JSON or
    SSE) that the first message or the result makes. Subclasses say what ``streaming`` means."""

    def __init__(self, *, accepts_json: bool, accepts_sse: bool) -> None:
        self.accepts_json = accepts_json
        self.accepts_sse = accepts_sse
        self.closed = False
        self.decided: asyncio.Future[JsonAnswer | SseAnswer] = asyncio.get_running_loop().create_future()

    @property
    def streaming(self) -> bool:
        raise NotImplementedError

    def refuse(self, exc: BaseException) -> bool:
        """Fail the whole exchange with ``exc`` (its HTTP boundary answers, e.g. 503) if no
        answer has started yet; False once the answer is under way."""
        if self.streaming or self.decided.done():
            return False
        self.closed = True
        self.decided.set_exception(exc)
        return True


class RequestStream(AnswerStream):
    def __init__(
        self,
        *,
        bus: Bus,
        session_id: str | None,
        accepts_json: bool,
        accepts_sse: bool,
        priming: bool,
    ) -> None:
        super().__init__(accepts_json=accepts_json, accepts_sse=accepts_sse)
        self.bus = bus
        self.session_id = session_id
        self.priming = priming
        self.stream: str | None = None

    @property
    def streaming(self) -> bool:
        return self.stream is not None

    @property
    def can_stream(self) -> bool:
        """Whether messages before the result can reach the client on this request."""
        return (
            self.accepts_sse
            and self.session_id is not None
            and not self.closed
            and (self.stream is not None or not self.decided.done())
        )

    async def _start_sse(self) -> str:
        assert self.session_id is not None
        self.stream = await self.bus.new_stream(self.session_id)
        if self.priming:
            await self.bus.publish(self.session_id, self.stream, None)
        self.decided.set_result(SseAnswer(self.stream))
        return self.stream

    async def emit(self, message: dict[str, Any]) -> bool:
        """Send a message ahead of the result; False if this request cannot carry it."""
        if not self.can_stream:
            return False
        stream = self.stream or await self._start_sse()
        assert self.session_id is not None
        await self.bus.publish(self.session_id, stream, message)
        return True

    async def hang_up(self) -> bool:
        """End the live connection now; the stream goes on and can be resumed by id."""
        if not self.can_stream:
            return False
        assert self.session_id is not None
        if self.stream is None:
            await self._start_sse()
            if not self.priming:
                # Below 2025-11-25 nothing carries an id yet: the client needs one to resume from.
                await self.bus.publish(self.session_id, self.stream, None)
        assert self.stream is not None
        await self.bus.publish(self.session_id, self.stream, None, hangup=True)
        return True

    async def finish(self, response: dict[str, Any] | None) -> None:
        """Deliver the final response (None: close without one, e.g. after cancellation)."""
        if self.closed:
            return
        self.closed = True
        if self.stream is None:
            if response is not None and (self.accepts_json or self.session_id is None):
                self.decided.set_result(JsonAnswer(response))
                return
            if self.session_id is None or response is None:
                # Nothing can be streamed: answer in JSON whatever the client prefers.
                self.decided.set_result(JsonAnswer(response or {}))
                return
            await self._start_sse()
        assert self.session_id is not None and self.stream is not None
        await self.bus.publish(self.session_id, self.stream, response, final=True)


class OutboxStream:
    """The legacy (2024-11-05 HTTP+SSE) answer path: every message, the response included,
    goes to the session's outbox, which its one SSE stream reads.
    """

    streaming = True
    can_stream = True

    def refuse(self, exc: BaseException) -> bool:
        """The answer always goes to the outbox: there is no exchange left to fail."""
        return False

    def __init__(self, *, bus: Bus, session_id: str) -> None:
        self.bus = bus
        self.session_id = session_id

    async def emit(self, message: dict[str, Any]) -> bool:
        await self.bus.publish(self.session_id, OUTBOX, message)
        return True

    async def hang_up(self) -> bool:
        return False

    async def finish(self, response: dict[str, Any] | None) -> None:
        if response is not None:
            await self.bus.publish(self.session_id, OUTBOX, response)
