"""The in-process bus: bounded deques and futures on the running event loop.

The reference implementation of ``mcp.bus.base.Bus``. Nothing here awaits between reading
and changing a stream, so every operation is atomic with respect to other requests.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from typing import Any

from mcp.bus.base import OUTBOX, Bus, Event, ReplyWaiter, StreamClosed, StreamInfo

DROPPED_MEMORY = 10_000


class _Stream:
    __slots__ = ("delivered", "dropped", "events", "finished", "next_seq", "owner", "waiters")

    def __init__(self, capacity: int) -> None:
        self.events: deque[Event] = deque(maxlen=capacity)
        self.next_seq = 1
        self.delivered = 0
        self.dropped = 0
        self.owner = 0
        self.finished = False
        self.waiters: set[asyncio.Future[None]] = set()

    def wake(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)
        self.waiters.clear()


class _Session:
    __slots__ = ("closed", "request_counter", "streams")

    def __init__(self) -> None:
        self.streams: OrderedDict[str, _Stream] = OrderedDict()
        self.request_counter = 0
        self.closed = False


class _Waiter(ReplyWaiter):
    def __init__(self, bus: MemoryBus, key: tuple[str, str]) -> None:
        self._bus = bus
        self._key = key
        self._future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        bus._replies[key] = self._future

    async def wait(self, timeout: float) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        if self._bus._replies.get(self._key) is self._future:
            del self._bus._replies[self._key]


class MemoryBus(Bus):
    backend = "memory"

    def __init__(self, *, outbox_capacity: int, stream_capacity: int, retained_streams: int) -> None:
        self.outbox_capacity = outbox_capacity
        self.stream_capacity = stream_capacity
        self.retained_streams = retained_streams
        self._sessions: dict[str, _Session] = {}
        # Recently dropped sessions: a late publish must not bring their streams back.
        self._dropped: OrderedDict[str, None] = OrderedDict()
        self._replies: dict[tuple[str, str], asyncio.Future[dict[str, Any]]] = {}
        self._overflows = 0

    def _session(self, session_id: str) -> _Session:
        state = self._sessions.get(session_id)
        if state is None:
            state = self._sessions[session_id] = _Session()
        return state

    def _stream(self, session_id: str, stream: str) -> _Stream:
        state = self._session(session_id)
        found = state.streams.get(stream)
        if found is None:
            capacity = self.outbox_capacity if stream == OUTBOX else self.stream_capacity
            found = state.streams[stream] = _Stream(capacity)
            self._forget_old_request_streams(state)
        return found

    def _forget_old_request_streams(self, state: _Session) -> None:
        request_streams = [name for name in state.streams if name != OUTBOX]
        excess = len(request_streams) - self.retained_streams
        for name in request_streams:
            if excess <= 0:
                break
            # Oldest first (insertion order); a stream still being written is kept.
            if state.streams[name].finished:
                del state.streams[name]
                excess -= 1

    async def new_stream(self, session_id: str) -> str:
        state = self._session(session_id)
        state.request_counter += 1
        name = f"r{state.request_counter}"
        self._stream(session_id, name)
        return name

    async def publish(
        self,
        session_id: str,
        stream: str,
        message: dict[str, Any] | None,
        *,
        final: bool = False,
        hangup: bool = False,
    ) -> Event:
        if session_id in self._dropped:
            return Event(stream, 0, message, final, hangup)
        target = self._stream(session_id, stream)
        event = Event(stream, target.next_seq, message, final, hangup)
        target.next_seq += 1
        if len(target.events) == target.events.maxlen:
            target.dropped += 1
            self._overflows += 1
        target.events.append(event)
        if final:
            target.finished = True
        target.wake()
        return event

    async def read(self, session_id: str, stream: str, after: int, timeout: float) -> list[Event]:
        if session_id in self._dropped:
            raise StreamClosed(session_id)
        state = self._session(session_id)
        target = self._stream(session_id, stream)
        pending = _after(target, after)
        if pending or timeout <= 0:
            return pending
        if not await _woken(target, timeout):
            return []
        if state.closed:
            raise StreamClosed(session_id)
        return _after(target, after)

    async def follow(
        self, session_id: str, stream: str, after: int, token: int, timeout: float, *, delivered: int = 0
    ) -> list[Event]:
        if session_id in self._dropped:
            raise StreamClosed(session_id)
        state = self._session(session_id)
        target = self._stream(session_id, stream)
        target.delivered = max(target.delivered, delivered)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if state.closed or target.owner != token:
                raise StreamClosed(session_id)
            pending = _after(target, after)
            remaining = deadline - loop.time()
            if pending or remaining <= 0 or not await _woken(target, remaining):
                return pending

    async def exists(self, session_id: str, stream: str) -> bool:
        state = self._sessions.get(session_id)
        return state is not None and stream in state.streams

    async def mark_delivered(self, session_id: str, stream: str, seq: int) -> None:
        target = self._stream(session_id, stream)
        target.delivered = max(target.delivered, seq)

    async def delivered(self, session_id: str, stream: str) -> int:
        return self._stream(session_id, stream).delivered

    async def claim(self, session_id: str, stream: str) -> int:
        target = self._stream(session_id, stream)
        target.owner += 1
        target.wake()
        return target.owner

    async def owner(self, session_id: str, stream: str) -> int:
        return self._stream(session_id, stream).owner

    async def info(self, session_id: str, stream: str) -> StreamInfo:
        state = self._sessions.get(session_id)
        target = state.streams.get(stream) if state else None
        if target is None:
            return StreamInfo(stream, 0, 0, 0, False)
        queued = sum(1 for event in target.events if event.seq > target.delivered and event.message)
        return StreamInfo(stream, queued, target.dropped, target.delivered, target.finished)

    async def drop_session(self, session_id: str) -> None:
        self._dropped[session_id] = None
        while len(self._dropped) > DROPPED_MEMORY:
            self._dropped.popitem(last=False)
        state = self._sessions.pop(session_id, None)
        if state is None:
            return
        state.closed = True
        for target in state.streams.values():
            target.wake()
        for key in [key for key in self._replies if key[0] == session_id]:
            self._replies.pop(key).cancel()

    def expect_reply(self, session_id: str, request_id: str) -> ReplyWaiter:
        return _Waiter(self, (session_id, request_id))

    async def deliver_reply(self, session_id: str, request_id: object, message: dict[str, Any]) -> bool:
        future = self._replies.pop((session_id, str(request_id)), None)
        if future is None or future.done():
            return False
        future.set_result(message)
        return True

    def local_sessions(self) -> list[str]:
        return list(self._sessions)

    async def overflows(self) -> int:
        return self._overflows

    def reset(self) -> None:
        """Forget everything (tests)."""
        for session_id in list(self._sessions):
            state = self._sessions.pop(session_id)
            state.closed = True
        self._replies.clear()
        self._dropped.clear()
        self._overflows = 0


async def _woken(target: _Stream, timeout: float) -> bool:
    """Wait for the stream's next change (publish, claim, drop); False after ``timeout``."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    target.waiters.add(waiter)
    try:
        # Awaited directly (not through wait_for): the reader runs as soon as it is woken.
        async with asyncio.timeout(timeout):
            await waiter
    except TimeoutError:
        return False
    finally:
        target.waiters.discard(waiter)
    return True


def _after(target: _Stream, after: int) -> list[Event]:
    if not target.events or target.events[-1].seq <= after:
        return []
    first = target.events[0].seq
    start = max(0, after + 1 - first)
    return [target.events[i] for i in range(start, len(target.events))]
