"""Per-client rate limit: at most MCP_RATE_LIMIT messages per MCP_RATE_WINDOW seconds (a
request counts one, a batch one per element).

Fixed windows aligned on the wall clock (window ``n`` covers ``[n*W, (n+1)*W)``), the same
in both backends, so processes sharing Redis agree on which window a request falls in.
Guarantees:

- MCP_RATE_LIMIT == 0 (the default): ``check_rate`` returns at once and touches nothing.
- O(1) per request in both backends.
- Memory backend (one process): at most ``MAX_TRACKED_CLIENTS`` counters, whatever the
  number of distinct clients; past windows are dropped when the window turns.
- Redis backend (MCP_STORE=redis): one round trip (INCR + PEXPIRE in a MULTI/EXEC
  pipeline) on ``<prefix>:rate:<client>:<window>``, so every process on the same Redis
  shares the count; each key expires shortly after its window. An unreachable Redis
  raises ``StoreUnavailable`` (the request fails with 503, like the session store would).
- Past the limit: ``TooManyRequests`` (429) with ``Retry-After`` = whole seconds until the
  window ends (at least 1).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mcp.errors import StoreUnavailable, TooManyRequests
from mcp.redis_client import get_redis, uses_redis

MAX_TRACKED_CLIENTS = 100_000
# A key outlives its window a little, so a process whose clock runs behind still finds it.
EXPIRY_MARGIN_MS = 2000
# Client names longer than this (a principal is any string a token carries) are hashed.
MAX_KEY_CLIENT = 128
REDIS_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)

Clock = Callable[[], float]


def too_many(limit: int, window: float, window_end: float, now: float) -> TooManyRequests:
    retry_after = max(1, math.ceil(window_end - now))
    return TooManyRequests(
        f"Too Many Requests: at most {limit} requests per {window:g} s; retry in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


class MemoryRateLimiter:
    """Counters for the current window in a dict, replaced wholesale when the window turns.

    When the dict is full, a new client takes the place of the most recently added one, so
    a flood of distinct clients churns one slot and established clients keep their counts.
    """

    def __init__(
        self, limit: int, window: float, *, max_clients: int = MAX_TRACKED_CLIENTS, clock: Clock = time.time
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._index = -1
        self._counts: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._counts)

    async def check(self, client: str, cost: int = 1) -> None:
        now = self.clock()
        index = int(now // self.window)
        if index != self._index:
            self._index = index
            self._counts = {}
        counts = self._counts
        count = counts.get(client)
        if count is None:
            if len(counts) >= self.max_clients:
                counts.popitem()
            count = 0
        count += cost
        counts[client] = count
        if count > self.limit:
            raise too_many(self.limit, self.window, (index + 1) * self.window, now)


class RedisRateLimiter:
    """Counters shared by every process using the same Redis and prefix.

    Commands go through the process's shared client (``mcp.redis_client.get_redis``).
    """

    def __init__(
        self, limit: int, window: float, *, url: str, prefix: str = "mcp", clock: Clock = time.time
    ) -> None:
        self.limit = limit
        self.window = window
        self.url = url
        self.prefix = prefix
        self.clock = clock

    def key(self, client: str, index: int) -> str:
        if len(client) > MAX_KEY_CLIENT:
            client = "sha256-" + hashlib.sha256(client.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.prefix}:rate:{client}:{index}"

    async def check(self, client: str, cost: int = 1) -> None:
        now = self.clock()
        index = int(now // self.window)
        window_end = (index + 1) * self.window
        key = self.key(client, index)
        ttl_ms = max(1, math.ceil((window_end - now) * 1000)) + EXPIRY_MARGIN_MS
        try:
            async with get_redis(self.url).pipeline(transaction=True) as pipe:
                pipe.incrby(key, cost)
                pipe.pexpire(key, ttl_ms)
                count, _ = await pipe.execute()
        except REDIS_UNAVAILABLE as exc:
            raise StoreUnavailable(f"redis unreachable during rate limiting: {type(exc).__name__}") from exc
        if count > self.limit:
            raise too_many(self.limit, self.window, window_end, now)


RateLimiter = MemoryRateLimiter | RedisRateLimiter

_limiter: tuple[tuple[object, ...], RateLimiter] | None = None


def get_limiter() -> RateLimiter:
    """The process-wide limiter for the current settings (rebuilt if they change)."""
    global _limiter
    key = (settings.MCP_RATE_LIMIT, settings.MCP_RATE_WINDOW, settings.MCP_STORE, settings.REDIS_URL)
    if _limiter is None or _limiter[0] != key:
        limit, window, _store, url = key
        limiter: RateLimiter
        if uses_redis():
            prefix = settings.MCP_REDIS_PREFIX
            limiter = RedisRateLimiter(limit, window, url=url, prefix=prefix)
        else:
            limiter = MemoryRateLimiter(limit, window)
        _limiter = (key, limiter)
    return _limiter[1]


async def reset_limiter() -> None:
    """Forget the process-wide limiter and its counts (tests)."""
    global _limiter
    _limiter = None


async def check_rate(client: str, cost: int = 1) -> None:
    """Count ``cost`` messages (one request, or a batch's further elements) for ``client``;
    raise TooManyRequests (429, Retry-After) past MCP_RATE_LIMIT."""
    if not settings.MCP_RATE_LIMIT:
        return
    await get_limiter().check(client, cost)
