"""Announcements to every process: live, at-most-once fan-out (what subscriptions/listen needs).

A list change or a resource update concerns every listener of the server, wherever its
stream is held. ``announce`` reaches every ``Subscription`` open at that moment, in this
process and (Redis) in every other one; nothing is stored, so a subscriber never receives
what was announced before it subscribed, and a subscriber that is gone misses it (listen
streams have no resumption in 2026-07-28). Memory: asyncio queues in this process. Redis: a
PUBLISH on one channel and, per process, one pub/sub connection that fans out to local
subscribers (never a connection per stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import cache
from typing import Any

import orjson
from django.conf import settings

from mcp.redis_client import close_redis, get_redis, unavailable_on_error, uses_redis

logger = logging.getLogger("mcp.bus")

QUEUE_LIMIT = 1000
RECONNECT_DELAY = 0.5


class Subscription:
    """One subscriber's queue of announcements; ``close`` when done."""

    def __init__(self, hub: Broadcast) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)

    def put(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # a stalled reader loses the oldest news
            self._queue.put_nowait(message)

    async def ready(self) -> None:
        """Returns once announcements from every process reach this subscription."""
        await self._hub.ready()

    async def get(self, timeout: float) -> dict[str, Any] | None:
        """The next announcement, or None after ``timeout`` seconds without one."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._hub.unsubscribe(self)


class Broadcast:
    """In-process fan-out; the reference implementation."""

    backend = "memory"

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def subscribe(self) -> Subscription:
        """Registered before it returns: nothing announced afterwards is missed."""
        subscription = Subscription(self)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    async def ready(self) -> None:
        return None

    def deliver(self, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers):
            subscription.put(message)

    async def announce(self, message: dict[str, Any]) -> None:
        self.deliver(message)

    async def close(self) -> None:
        self._subscribers.clear()


class RedisBroadcast(Broadcast):
    backend = "redis"

    def __init__(self, *, url: str, prefix: str) -> None:
        super().__init__()
        self.url = url
        self.channel = f"{prefix}:announce"
        self._task: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event | None = None

    @property
    def redis(self) -> Any:
        return get_redis(self.url)

    def subscribe(self) -> Subscription:
        subscription = super().subscribe()
        if self._task is None or self._task.done():
            self._subscribed = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        return subscription

    async def ready(self) -> None:
        if self._subscribed is not None:
            await self._subscribed.wait()

    async def announce(self, message: dict[str, Any]) -> None:
        with unavailable_on_error("announce"):
            await self.redis.publish(self.channel, orjson.dumps(message))

    async def _run(self) -> None:
        """Hold the process's subscription while anyone here listens; reconnect on failure."""
        assert self._subscribed is not None
        while self._subscribers:
            self._subscribed.clear()
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                while self._subscribers:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self.deliver(orjson.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("announcement channel lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(RECONNECT_DELAY)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
        self._subscribed = None
        self._task = None

    async def close(self) -> None:
        await super().close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
        await close_redis(self.url)


@cache
def get_broadcast() -> Broadcast:
    if uses_redis():
        return RedisBroadcast(url=settings.REDIS_URL, prefix=settings.MCP_REDIS_PREFIX)
    return Broadcast()
