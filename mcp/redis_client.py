"""What the Redis session store and the Redis bus share: a client, Lua scripts, one failure.

Both talk to Redis with ``redis.asyncio`` on ``REDIS_URL`` (Django's async cache API would
hop to a thread for every call, and its ``aincr`` is not atomic). Every multi-key change is
a Lua script, so it is atomic on the server and costs one round trip. The scripts build a
few key names from the prefix, which standalone Redis allows and Redis Cluster does not:
these backends target one Redis server (or a primary with replicas), not a cluster.

A Redis that cannot be reached raises ``StoreUnavailable`` (the request fails with 503),
never an answer that looks like "no such session".
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mcp.store.base import StoreUnavailable

# A failover leaves clients on a read-only replica for a moment: unavailable, not a bug.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)


# Connections one client (store, bus, broadcast) keeps open to Redis at most. A request that
# finds them all busy waits for one (up to the socket timeout): redis-py's default pool would
# refuse it instead (MaxConnectionsError past 100 in use), a 503 under 100+ concurrent requests.
MAX_CONNECTIONS = 100


def connect(url: str) -> aioredis.Redis:
    """A client with short timeouts: a request fails fast (503) rather than hanging."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=10,
        decode_responses=True,
        socket_connect_timeout=5,
        socket_timeout=10,
        # Two quick retries survive a stale pooled connection after a Redis restart.
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        # Pub/sub connections sit idle; a periodic PING finds a silently dead one.
        health_check_interval=30,
    )
    return aioredis.Redis.from_pool(pool)


@contextlib.contextmanager
def unavailable_on_error(what: str) -> Iterator[None]:
    try:
        yield
    except UNAVAILABLE as exc:
        raise StoreUnavailable(f"redis unreachable during {what}: {type(exc).__name__}") from exc


class Script:
    """A Lua script run by digest (EVALSHA), loaded on first use on each server."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        # execute_command, not client.evalsha: the same command without the per-call
        # argument-deprecation wrapper around it (this runs once or twice per request).
        try:
            return await client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await client.script_load(self.source)
            return await client.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


async def delete_matching(client: aioredis.Redis, patterns: Sequence[str]) -> int:
    """Delete every key matching one of ``patterns`` (SCAN, never KEYS); tests only."""
    deleted = 0
    for pattern in patterns:
        batch: list[str] = []
        async for key in client.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await client.unlink(*batch)
                batch = []
        if batch:
            deleted += await client.unlink(*batch)
    return deleted
