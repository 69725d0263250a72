"""The shared bus: session streams as Redis Streams, so any process can write or read them.

Key layout (``p`` is the prefix; session ids are the store's 32 hex characters, last):

- ``p:bm:<id>``             HASH: ``n`` (request streams made so far) and, per stream,
                             ``<stream>.seq`` (last seq issued), ``.dropped``, ``.delivered``,
                             ``.owner`` (claim token) and ``.done`` (final event written).
- ``p:bs:<stream>:<id>``    STREAM: the events, entry id ``0-<seq>``, fields ``m`` (message
                             JSON, empty for none), ``f`` / ``h`` (final / hangup).
- ``p:bw:<request>:<id>``   STRING: a process waits for the reply to this request.
- ``p:bq:<request>:<id>``   STRING: the reply, until its waiter takes it (GETDEL).
- ``p:bd:<id>``             STRING: the session was dropped (kept ``DROPPED_TTL`` seconds).
- channel ``p:bc:<id>``     pub/sub wake-ups for the session (see ``redis_listener``).

Guarantees:

- Each change is one Lua script, atomic on the server: seqs are consecutive per stream, a
  full stream drops exactly its oldest event and counts it, a claim invalidates every
  older token. Entry ids are the seqs themselves, so a reader resumes from any seq it saw.
- Delivery is at-most-once outside replay: a reader gets each event once; only a client
  that resumes from an earlier ``Last-Event-ID`` sees it again (while it is retained).
- ``read`` never holds a Redis connection while it waits: one listener per process hears
  the session channels its local readers need. A reader on any process is woken by a
  publish, a claim or a drop on any other.
- Replies to server-to-client requests reach the waiter on whichever process it runs: the
  reply is stored under the request id and the waiter is woken through its session's
  channel. ``deliver_reply`` returns True when a waiter (in this process, or registered in
  Redis by any process) had not been answered yet, so a duplicate reply gets False. The
  waiter registers in Redis just after ``expect_reply`` returns (that method is not async);
  a reply that overtakes the registration is still kept for the waiter (``REPLY_TTL``),
  though ``deliver_reply`` then returns False.
- ``drop_session`` removes the streams at once and leaves a tombstone: reads raise
  StreamClosed and a late publish (a request finishing after DELETE) is discarded, on every
  process, so a dropped session is never brought back. A session the bus has not seen yet
  is simply empty: reading it waits.
- Every key expires ``ttl`` seconds after the session's last bus activity, so an abandoned
  session's streams vanish without a sweeper. No session state lives in the process, so
  ``local_sessions`` is empty: the sweeper has nothing local to free.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import orjson
import redis.asyncio as aioredis

from mcp.bus.base import OUTBOX, Bus, Event, ReplyWaiter, StreamClosed, StreamInfo
from mcp.bus.redis_listener import CLOSED, OWNER, Listener, ReplySlot
from mcp.bus.redis_scripts import (
    CLAIM,
    DROP,
    DROP_STREAMS,
    INFO,
    LOOK,
    MARK_DELIVERED,
    NEW_STREAM,
    PUBLISH,
    REPLY,
)
from mcp.redis_client import (
    UNAVAILABLE,
    LuaStep,
    close_redis,
    delete_matching,
    get_redis,
    glob_escape,
    unavailable_on_error,
)

# Seconds a delivered reply waits for its waiter to pick it up.
REPLY_TTL = 300
# Seconds a waiter's registration lives if its process dies without closing it.
WAITER_TTL = 3600
# Seconds a dropped session's tombstone outlives it (longer than any request still running).
DROPPED_TTL = 3600
# Messages up to this many bytes of JSON ride on their wake-up notice (see redis_listener):
# a waiting reader takes the event from it instead of reading the stream again.
INLINE_LIMIT = 16384


class RedisBus(Bus):
    backend = "redis"

    def __init__(
        self,
        *,
        url: str,
        outbox_capacity: int,
        stream_capacity: int,
        retained_streams: int,
        prefix: str = "mcp",
        ttl: float = 86400.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.outbox_capacity = outbox_capacity
        self.stream_capacity = stream_capacity
        self.retained_streams = retained_streams
        self.ttl_ms = math.ceil(ttl * 1000)
        self._head = f"{prefix}:bs:"
        self._listener = Listener(lambda: self.redis, f"{prefix}:bc:")

    @property
    def redis(self) -> aioredis.Redis:
        # The shared client, so a closed bus reconnects (on whatever loop runs then).
        return get_redis(self.url)

    @property
    def _totals(self) -> str:
        return f"{self.prefix}:bt"

    async def overflows(self) -> int:
        with unavailable_on_error("overflows"):
            return int(await self.redis.hget(self._totals, "overflow") or 0)

    def _meta(self, session_id: str) -> str:
        return f"{self.prefix}:bm:{session_id}"

    def _stream(self, session_id: str, stream: str) -> str:
        return f"{self._head}{stream}:{session_id}"

    def _tombstone(self, session_id: str) -> str:
        return f"{self.prefix}:bd:{session_id}"

    def _capacity(self, stream: str) -> int:
        return self.outbox_capacity if stream == OUTBOX else self.stream_capacity

    async def new_stream(self, session_id: str) -> str:
        with unavailable_on_error("new_stream"):
            number = await NEW_STREAM(
                self.redis,
                [self._meta(session_id)],
                [self.ttl_ms, self.retained_streams, self._head, session_id],
            )
        return f"r{number}"

    async def publish(
        self,
        session_id: str,
        stream: str,
        message: dict[str, Any] | None,
        *,
        final: bool = False,
        hangup: bool = False,
    ) -> Event:
        data = "" if message is None else orjson.dumps(message).decode()
        with unavailable_on_error("publish"):
            seq = await PUBLISH(
                self.redis,
                [
                    self._meta(session_id),
                    self._stream(session_id, stream),
                    self._tombstone(session_id),
                    self._totals,
                ],
                [
                    stream,
                    data,
                    int(final),
                    int(hangup),
                    self._capacity(stream),
                    self.ttl_ms,
                    self._listener.channel(session_id),
                    self.retained_streams,
                    self._head,
                    session_id,
                    int(len(data) <= INLINE_LIMIT),
                ],
            )
        return Event(stream, int(seq), message, final, hangup)

    async def _look(
        self, session_id: str, stream: str, after: int, token: int | None = None, delivered: int = 0
    ) -> list[Event]:
        """Events after ``after`` (recording ``delivered`` first); StreamClosed if the session
        was dropped or ``token`` (unless None) no longer owns the stream. One round trip."""
        key = self._stream(session_id, stream)
        with unavailable_on_error("read"):
            # A session that is only read (an idle GET stream) must not expire meanwhile.
            found = await LOOK(
                self.redis,
                [self._meta(session_id), key, self._tombstone(session_id)],
                [stream, after, "" if token is None else token, delivered, self.ttl_ms],
            )
        if found[0] != 0:
            raise StreamClosed(session_id)
        events = []
        for entry_id, flat in found[1]:
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            events.append(
                Event(
                    stream,
                    int(entry_id.partition("-")[2]),
                    orjson.loads(fields["m"]) if fields.get("m") else None,
                    final=fields.get("f") == "1",
                    hangup=fields.get("h") == "1",
                )
            )
        return events

    async def read(self, session_id: str, stream: str, after: int, timeout: float) -> list[Event]:
        return await self._read(session_id, stream, after, timeout, None, 0)

    async def follow(
        self, session_id: str, stream: str, after: int, token: int, timeout: float, *, delivered: int = 0
    ) -> list[Event]:
        return await self._read(session_id, stream, after, timeout, token, delivered)

    async def _read(
        self, session_id: str, stream: str, after: int, timeout: float, token: int | None, delivered: int
    ) -> list[Event]:
        """``read`` (``token`` None: a claim only wakes it) or ``follow`` (a claim ends it)."""
        listener = self._listener
        if timeout <= 0:
            return await self._look(session_id, stream, after, token, delivered)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        listener.acquire(session_id)
        try:
            if not listener.confirmed(session_id):
                # Subscribing starts beside the first look (a backlog is returned at once), so
                # the stream's next wait finds the channel heard already.
                listener.subscribe(session_id)
                events = await self._look(session_id, stream, after, token, delivered)
                if events:
                    return events
                delivered = 0
                try:
                    # The timeout outside: a slow subscription is no outage (TimeoutError is an OSError).
                    async with asyncio.timeout(timeout):
                        with unavailable_on_error("subscribe"):
                            await listener.ready(session_id)
                except TimeoutError:
                    return []
            while True:
                # Armed before the look, so a publish right after it still wakes us.
                waiter = listener.arm(session_id, stream, after)
                try:
                    events = await self._look(session_id, stream, after, token, delivered)
                    delivered = 0
                    remaining = deadline - loop.time()
                    if events or remaining <= 0:
                        return events
                    try:
                        # Awaited directly (not through wait_for): the reader runs once woken.
                        async with asyncio.timeout(remaining):
                            woken = await waiter
                    except TimeoutError:
                        return []
                finally:
                    listener.disarm(session_id, stream, waiter)
                if isinstance(woken, Event):
                    return [woken]
                if woken == CLOSED:
                    raise StreamClosed(session_id)
                if woken == OWNER and token is None:
                    # A plain reader must look at the claim token itself: return, even empty.
                    return await self._look(session_id, stream, after)
        finally:
            listener.release(session_id)

    async def exists(self, session_id: str, stream: str) -> bool:
        with unavailable_on_error("exists"):
            return bool(await self.redis.hexists(self._meta(session_id), f"{stream}.seq"))

    async def mark_delivered(self, session_id: str, stream: str, seq: int) -> None:
        with unavailable_on_error("mark_delivered"):
            await MARK_DELIVERED(self.redis, [self._meta(session_id)], [stream, seq, self.ttl_ms])

    async def delivered(self, session_id: str, stream: str) -> int:
        with unavailable_on_error("delivered"):
            return int(await self.redis.hget(self._meta(session_id), f"{stream}.delivered") or 0)

    async def claim(self, session_id: str, stream: str) -> int:
        with unavailable_on_error("claim"):
            channel = self._listener.channel(session_id)
            token = await CLAIM(self.redis, [self._meta(session_id)], [stream, self.ttl_ms, channel])
        return int(token)

    async def owner(self, session_id: str, stream: str) -> int:
        with unavailable_on_error("owner"):
            return int(await self.redis.hget(self._meta(session_id), f"{stream}.owner") or 0)

    async def info(self, session_id: str, stream: str) -> StreamInfo:
        with unavailable_on_error("info"):
            queued, dropped, delivered, done = await INFO(
                self.redis, [self._meta(session_id), self._stream(session_id, stream)], [stream]
            )
        return StreamInfo(stream, int(queued), int(dropped), int(delivered), bool(done))

    async def drop_session(self, session_id: str) -> None:
        self._listener.close_session(session_id)
        step = self.drop_step(session_id)
        with unavailable_on_error("drop_session"):
            await DROP(self.redis, step.keys, step.args)

    def drop_step(self, session_id: str) -> LuaStep:
        return LuaStep(
            url=self.url,
            name="drop_streams",
            source=DROP_STREAMS,
            keys=(self._meta(session_id), self._tombstone(session_id)),
            args=(self._head, session_id, self._listener.channel(session_id), DROPPED_TTL * 1000),
        )

    def dropped(self, session_id: str) -> None:
        self._listener.close_session(session_id)

    def local_sessions(self) -> list[str]:
        return []

    def expect_reply(self, session_id: str, request_id: str) -> ReplyWaiter:
        return _RedisReplyWaiter(self, session_id, str(request_id))

    async def deliver_reply(self, session_id: str, request_id: object, message: dict[str, Any]) -> bool:
        key = str(request_id)
        slot = self._listener.reply_slot(session_id, key)
        if slot is not None:
            if slot.message is not None or slot.closed:
                return False
            slot.message = message
            slot.event.set()
            return True
        with unavailable_on_error("deliver_reply"):
            waiting = await REPLY(
                self.redis,
                [self._waiter_key(session_id, key), self._mailbox(session_id, key)],
                [orjson.dumps(message).decode(), REPLY_TTL * 1000, self._listener.channel(session_id), key],
            )
        return bool(waiting)

    def _waiter_key(self, session_id: str, request_id: str) -> str:
        return f"{self.prefix}:bw:{request_id}:{session_id}"

    def _mailbox(self, session_id: str, request_id: str) -> str:
        return f"{self.prefix}:bq:{request_id}:{session_id}"

    async def close(self) -> None:
        await self._listener.stop()
        await close_redis(self.url)

    async def reset(self) -> None:
        """Delete this bus's keys (and only them): tests."""
        with unavailable_on_error("reset"):
            await delete_matching(self.redis, [f"{glob_escape(self.prefix)}:b[mswqd]:*"])
            await self.redis.delete(self._totals)


class _RedisReplyWaiter(ReplyWaiter):
    """Registered in this process at once and in Redis just after (see the module docstring)."""

    def __init__(self, bus: RedisBus, session_id: str, request_id: str) -> None:
        self._bus = bus
        self._session_id = session_id
        self._request_id = request_id
        self._waiter_key = bus._waiter_key(session_id, request_id)
        self._mailbox = bus._mailbox(session_id, request_id)
        self._slot: ReplySlot = bus._listener.add_reply(session_id, request_id)
        bus._listener.acquire(session_id)
        self._closed = False
        self._registered = asyncio.get_running_loop().create_task(self._register())

    async def _register(self) -> None:
        with unavailable_on_error("expect_reply"):
            await self._bus.redis.set(self._waiter_key, "1", px=WAITER_TTL * 1000)
            await self._bus._listener.ready(self._session_id)

    async def wait(self, timeout: float) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            await asyncio.wait_for(asyncio.shield(self._registered), timeout)
        except TimeoutError:
            return None
        slot = self._slot
        while True:
            slot.event.clear()
            if slot.message is not None:
                return slot.message
            if slot.closed:
                # As MemoryBus: a waiter of a dropped session is cancelled.
                raise asyncio.CancelledError(f"session {self._session_id[:8]} ended")
            with unavailable_on_error("wait for reply"):
                stored = await self._bus.redis.getdel(self._mailbox)
            if stored is not None:
                return orjson.loads(stored)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(slot.event.wait(), remaining)
            except TimeoutError:
                return None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        listener = self._bus._listener
        listener.remove_reply(self._session_id, self._request_id, self._slot)
        listener.release(self._session_id)
        self._registered.cancel()
        await asyncio.wait([self._registered])
        if not self._registered.cancelled():
            self._registered.exception()
        try:
            await self._bus.redis.delete(self._waiter_key, self._mailbox)
        except UNAVAILABLE:
            pass  # both keys expire by themselves
