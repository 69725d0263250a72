"""One pub/sub connection per process, fanning Redis wake-ups out to local waiters.

Every session has a channel. Whatever changes a session's streams publishes a short notice
on it, in the same Lua script as the change: ``w:<stream>:<seq>`` (an event was appended;
``w:<stream>:<seq>:<final><hangup>:<message JSON>`` when it is small enough to carry),
``o:<stream>`` (a reader claimed the stream), ``r:<request id>`` (a reply was delivered),
``c`` (the session was dropped). The listener subscribes to a session's channel while a
local reader or reply waiter needs it (and a little longer, so a busy stream does not
churn subscriptions) and resolves the local futures.

Readers subscribe before their last look at the stream, so no event can slip between the
look and the wait. A notice that carries the very next event a waiting reader needs (seq
``after + 1``) hands it over: that is exactly what re-reading the stream would return first,
and notices arrive in the order the scripts ran, so a claim or a drop that came before it is
seen first. Any other notice is a hint: the reader re-reads the stream (a reader that already
has the event, ``after >= seq``, is not woken at all). A wake-up lost while the pub/sub
connection is re-established costs at most one read timeout (a keep-alive), never an event;
after a reconnect every local waiter is woken to look again.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from mcp.bus.base import Event

logger = logging.getLogger("mcp.bus")

# Why a reader was woken.
EVENT, OWNER, CLOSED, RETRY = "event", "owner", "closed", "retry"

# Seconds a channel with no local waiter stays subscribed.
LINGER = 10.0
POLL = 1.0


class _Channel:
    __slots__ = ("confirmed", "idle_since", "refs", "subscribing")

    def __init__(self) -> None:
        self.refs = 0
        self.idle_since: float | None = None
        self.subscribing: asyncio.Task[None] | None = None
        self.confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class ReplySlot:
    """Where a reply waiter learns that its answer arrived (or that its session ended)."""

    __slots__ = ("closed", "event", "message")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        # Set directly when the reply is delivered in this process; else read from Redis.
        self.message: dict[str, Any] | None = None
        self.closed = False


class Listener:
    def __init__(self, client: Callable[[], aioredis.Redis], channel_prefix: str) -> None:
        self._client = client
        self._prefix = channel_prefix
        self._channels: dict[str, _Channel] = {}
        self._stray: set[str] = set()
        # session -> stream -> waiting reader -> the seq it has read up to.
        self._readers: dict[str, dict[str, dict[asyncio.Future[str | Event], int]]] = {}
        self._replies: dict[tuple[str, str], ReplySlot] = {}
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock: asyncio.Lock | None = None
        self._last_cleanup = 0.0

    def channel(self, session_id: str) -> str:
        return self._prefix + session_id

    # --- Interest in a session (synchronous, so nothing is missed before the first await) ---

    def acquire(self, session_id: str) -> None:
        channel = self._channels.get(session_id)
        if channel is None:
            channel = self._channels[session_id] = _Channel()
        channel.refs += 1
        channel.idle_since = None

    def release(self, session_id: str) -> None:
        channel = self._channels.get(session_id)
        if channel is not None:
            channel.refs -= 1
            if channel.refs <= 0:
                channel.idle_since = time.monotonic()

    def confirmed(self, session_id: str) -> bool:
        """Whether this process already hears the session's channel (``ready`` returns at once)."""
        channel = self._channels.get(session_id)
        return channel is not None and channel.confirmed.done() and not channel.confirmed.cancelled()

    def arm(self, session_id: str, stream: str, after: int) -> asyncio.Future[str | Event]:
        """A future resolved by the next wake-up of a reader of ``stream`` that has read up to
        ``after``: with the next event itself when a notice hands it over, else the reason."""
        future: asyncio.Future[str | Event] = asyncio.get_running_loop().create_future()
        self._readers.setdefault(session_id, {}).setdefault(stream, {})[future] = after
        return future

    def disarm(self, session_id: str, stream: str, future: asyncio.Future[str | Event]) -> None:
        streams = self._readers.get(session_id)
        if streams is None:
            return
        futures = streams.get(stream)
        if futures is not None:
            futures.pop(future, None)
            if not futures:
                del streams[stream]
        if not streams:
            del self._readers[session_id]

    def add_reply(self, session_id: str, request_id: str) -> ReplySlot:
        slot = self._replies[(session_id, request_id)] = ReplySlot()
        return slot

    def remove_reply(self, session_id: str, request_id: str, slot: ReplySlot) -> None:
        if self._replies.get((session_id, request_id)) is slot:
            del self._replies[(session_id, request_id)]

    def reply_slot(self, session_id: str, request_id: str) -> ReplySlot | None:
        return self._replies.get((session_id, request_id))

    # --- Waking -------------------------------------------------------------------------------

    def wake(self, session_id: str, stream: str | None, reason: str) -> None:
        """Resolve the readers of one stream (or of every stream of the session)."""
        streams = self._readers.get(session_id)
        if not streams:
            return
        for name in [stream] if stream is not None else list(streams):
            for future in streams.pop(name, ()):
                if not future.done():
                    future.set_result(reason)
        if not streams:
            del self._readers[session_id]

    def appended(self, session_id: str, stream: str, seq: int, event: Callable[[], Event] | None) -> None:
        """Event ``seq`` was appended to ``stream``: hand it (``event()``) to the readers that
        need it next, make the others behind it look, leave those that have it."""
        streams = self._readers.get(session_id)
        futures = streams.get(stream) if streams else None
        if not futures:
            return
        handed: Event | None = None
        for future, after in list(futures.items()):
            if after >= seq:
                continue
            del futures[future]
            if future.done():
                continue
            if after == seq - 1 and event is not None:
                handed = handed or event()
                future.set_result(handed)
            else:
                future.set_result(EVENT)
        if not futures:
            del streams[stream]
            if not streams:
                del self._readers[session_id]

    def close_session(self, session_id: str) -> None:
        self.wake(session_id, None, CLOSED)
        for (owner, _), slot in self._replies.items():
            if owner == session_id:
                slot.closed = True
                slot.event.set()

    def _wake_everyone(self, reason: str) -> None:
        for session_id in list(self._readers):
            self.wake(session_id, None, reason)
        for slot in self._replies.values():
            if reason == CLOSED:
                slot.closed = True
            slot.event.set()

    # --- The subscription ---------------------------------------------------------------------

    def subscribe(self, session_id: str) -> None:
        """Start subscribing to the session's channel, unless it is heard or on its way (no
        wait: a reader starts it beside its first look). The caller holds the session."""
        channel = self._channels.get(session_id)
        if channel is None:
            # Held across a stop(): start over, idle, so the linger rule cleans it up.
            channel = self._channels[session_id] = _Channel()
            channel.idle_since = time.monotonic()
        if channel.confirmed.done() or (channel.subscribing is not None and not _failed(channel.subscribing)):
            return
        # A task of its own: a reader that times out must not cancel a shared SUBSCRIBE.
        channel.subscribing = asyncio.get_running_loop().create_task(self._subscribe(session_id))
        # Its failure reaches the readers awaiting it; unawaited, it is not an error.
        channel.subscribing.add_done_callback(_retrieved)

    async def ready(self, session_id: str) -> None:
        """Return once Redis confirmed that this process hears the session's channel.

        The caller must hold the session (``acquire``). Raises what subscribing raised.
        """
        self.subscribe(session_id)
        channel = self._channels[session_id]
        if not channel.confirmed.done():
            subscribing = channel.subscribing
            assert subscribing is not None
            try:
                await asyncio.shield(subscribing)
            except Exception:
                if channel.subscribing is subscribing:
                    channel.subscribing = None
                raise
        await asyncio.shield(channel.confirmed)

    async def _subscribe(self, session_id: str) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._client().pubsub()
            await self._pubsub.subscribe(self.channel(session_id))
            if self._task is None or self._task.done():
                # A fresh context: the listener outlives the request that started it.
                loop = asyncio.get_running_loop()
                self._task = loop.create_task(self._run(), context=contextvars.Context())

    async def _run(self) -> None:
        failures = 0
        while self._pubsub is not None:
            try:
                message = await self._pubsub.get_message(timeout=POLL)
                if message is not None:
                    self._dispatch(message)
                await self._unsubscribe_idle()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                logger.warning("bus listener lost redis (%s); waking local readers", type(exc).__name__)
                self._wake_everyone(RETRY)
                await asyncio.sleep(min(5.0, 0.05 * 2**failures))

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        session_id = str(message["channel"])[len(self._prefix) :]
        if kind == "subscribe":
            channel = self._channels.get(session_id)
            if channel is None:
                self._stray.add(session_id)
            elif channel.confirmed.done():
                # Subscribed again after a reconnect: notices may have been missed meanwhile.
                self.wake(session_id, None, RETRY)
                for (owner, _), slot in self._replies.items():
                    if owner == session_id:
                        slot.event.set()
            else:
                channel.confirmed.set_result(None)
        elif kind == "message":
            data = str(message["data"])
            if data == "c":
                self.close_session(session_id)
            elif data.startswith("w:"):
                self._appended(session_id, data[2:])
            elif data.startswith("o:"):
                self.wake(session_id, data[2:], OWNER)
            elif data.startswith("r:"):
                slot = self._replies.get((session_id, data[2:]))
                if slot is not None:
                    slot.event.set()

    def _appended(self, session_id: str, notice: str) -> None:
        """``<stream>:<seq>[:<final><hangup>:<message JSON>]``; a bare ``<stream>`` (no seq)
        wakes every reader of the stream."""
        parts = notice.split(":", 3)
        stream = parts[0]
        if len(parts) < 2 or not parts[1].isdigit():
            self.wake(session_id, stream, EVENT)
            return
        seq = int(parts[1])
        event = None
        if len(parts) == 4 and len(parts[2]) == 2:
            flags, body = parts[2], parts[3]

            def event() -> Event:
                message = orjson.loads(body) if body else None
                return Event(stream, seq, message, final=flags[0] == "1", hangup=flags[1] == "1")

        self.appended(session_id, stream, seq, event)

    async def _unsubscribe_idle(self) -> None:
        now = time.monotonic()
        if now - self._last_cleanup < POLL:
            return
        self._last_cleanup = now
        idle = [
            session_id
            for session_id, channel in self._channels.items()
            if channel.refs <= 0
            and channel.idle_since is not None
            and now - channel.idle_since > LINGER
            and channel.confirmed.done()
        ]
        for session_id in idle:
            del self._channels[session_id]
        idle += [session_id for session_id in self._stray if session_id not in self._channels]
        self._stray.clear()
        if idle and self._pubsub is not None and self._lock is not None:
            async with self._lock:
                await self._pubsub.unsubscribe(*(self.channel(session_id) for session_id in idle))

    async def stop(self) -> None:
        """Stop listening; local readers end (StreamClosed) and reply waiters are cancelled."""
        task, self._task = self._task, None
        pubsub, self._pubsub = self._pubsub, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        subscribing = [channel.subscribing for channel in self._channels.values() if channel.subscribing]
        for pending in subscribing:
            pending.cancel()
        if subscribing:
            await asyncio.wait(subscribing)
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        self._wake_everyone(CLOSED)
        self._channels.clear()
        self._stray.clear()
        self._lock = None


def _failed(task: asyncio.Task[None]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


def _retrieved(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
