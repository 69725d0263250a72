"""Rolling request statistics and process heartbeats, kept in the shared store.

Every process counts what it serves (requests by JSON-RPC method, tool calls by tool, a
latency histogram, errors) into one-second buckets. With the memory store the buckets are
the process's own (it is the only process); with Redis each process adds its counts into
``<prefix>:ops:b:<second>`` hashes every MCP_STATS_INTERVAL seconds (one pipelined
HINCRBY batch) and writes a heartbeat into ``<prefix>:ops:procs``. So /status and its feed
show the same figures whichever worker answers, at most one interval late.

Guarantees: no figure here names a session, a token or a client; a bucket lives
``KEEP_SECONDS``; a process whose heartbeat is older than three intervals (plus a grace)
no longer counts as live.
"""

from __future__ import annotations

import bisect
import logging
import os
import socket
import time
from collections import Counter, defaultdict
from typing import Any

import orjson
from django.conf import settings

from mcp.calls import running
from mcp.process import draining
from mcp.process.periodic import Periodic
from mcp.redact import describe_exception
from mcp.redis_client import delete_matching, get_redis, glob_escape, uses_redis

logger = logging.getLogger("mcp.ops")

KEEP_SECONDS = 600
# Upper bounds (milliseconds) of the latency histogram's buckets; the last is unbounded.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, float("inf"))

STARTED = time.time()
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}"

# Kept by the access observer: SSE responses open in this process right now, and the MCP
# requests it has served since it started.
local = {"open_streams": 0, "requests": 0}


def latency_bucket(ms: float) -> int:
    return bisect.bisect_left(LATENCY_BOUNDS_MS, ms)


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The upper bound (ms) of the bucket holding the ``fraction`` quantile; None if empty."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            bound = LATENCY_BOUNDS_MS[min(index, len(LATENCY_BOUNDS_MS) - 1)]
            return bound if bound != float("inf") else LATENCY_BOUNDS_MS[-2]
    return None


def process_facts() -> dict[str, Any]:
    rss = 0
    try:
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    return {
        "id": PROCESS_ID,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": STARTED,
        "seen": time.time(),
        "open_streams": local["open_streams"],
        "requests": local["requests"],
        "running": running.count(),
        "rss_bytes": rss,
        "draining": draining.active(),
    }


class StatsBackend:
    """Where the buckets and heartbeats live; ``MemoryStats`` is the reference."""

    def __init__(self) -> None:
        # second -> field -> count, not yet in the shared buckets.
        self.pending: dict[int, Counter[str]] = defaultdict(Counter)
        # Requests this process served in the last flush window (its own load).
        self.local_rate = 0.0
        # The second ``observe`` last counted into, and its counter.
        self._second = -1
        self._counts: Counter[str] = Counter()

    def observe(self, *, method: str | None, tool: str | None, ms: float, status: int) -> None:
        second = int(time.time())
        if second != self._second:
            self._second, self._counts = second, self.counts_for(second)
        counts = self._counts
        counts["n"] += 1
        local["requests"] += 1
        if status >= 500:
            counts["e"] += 1
        if method:
            counts[f"m:{method[:64]}"] += 1
            counts[f"h:{latency_bucket(ms)}"] += 1
        if tool:
            counts[f"t:{tool[:64]}"] += 1

    def counts_for(self, second: int) -> Counter[str]:
        """Where ``observe`` counts the requests of ``second`` (asked once per second)."""
        return self.pending[second]

    def take_pending(self) -> dict[int, Counter[str]]:
        pending, self.pending = self.pending, defaultdict(Counter)
        self._second = -1  # the current second's counter now belongs to what was taken
        return pending

    async def flush(self) -> None:
        raise NotImplementedError

    async def buckets(self, seconds: list[int]) -> list[dict[str, int]]:
        raise NotImplementedError

    async def processes(self) -> list[dict[str, Any]]:
        raise NotImplementedError


class MemoryStats(StatsBackend):
    def __init__(self) -> None:
        super().__init__()
        self._buckets: dict[int, Counter[str]] = {}

    def counts_for(self, second: int) -> Counter[str]:
        """The process's own buckets are the shared ones: counted in place, pruned each second."""
        self._merge()
        return self._buckets.setdefault(second, Counter())

    def _merge(self) -> None:
        for second, counts in self.take_pending().items():
            self._buckets.setdefault(second, Counter()).update(counts)
        cutoff = int(time.time()) - KEEP_SECONDS
        for second in [s for s in self._buckets if s < cutoff]:
            del self._buckets[second]

    async def flush(self) -> None:
        self._merge()

    async def buckets(self, seconds: list[int]) -> list[dict[str, int]]:
        self._merge()
        return [dict(self._buckets.get(second, {})) for second in seconds]

    async def processes(self) -> list[dict[str, Any]]:
        now = int(time.time())
        recent = await self.buckets(list(range(now - 9, now + 1)))
        facts = process_facts()
        facts["requests_per_second"] = round(sum(b.get("n", 0) for b in recent) / 10, 2)
        return [facts]

    def reset(self) -> None:
        self._buckets.clear()
        self.pending.clear()
        self._second = -1


class RedisStats(StatsBackend):
    def __init__(self, prefix: str, interval: float) -> None:
        super().__init__()
        self.prefix = prefix
        self.interval = interval
        self._procs = f"{prefix}:ops:procs"

    @property
    def redis(self) -> Any:
        return get_redis()

    def _bucket(self, second: int) -> str:
        return f"{self.prefix}:ops:b:{second}"

    async def flush(self) -> None:
        """Add this process's pending counts to the shared buckets and write its heartbeat."""
        pending = self.take_pending()
        self.local_rate = sum(c["n"] for c in pending.values()) / max(self.interval, 0.001)
        facts = process_facts()
        facts["requests_per_second"] = round(self.local_rate, 2)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for second, counts in pending.items():
                    key = self._bucket(second)
                    for name, value in counts.items():
                        pipe.hincrby(key, name, value)
                    pipe.expire(key, KEEP_SECONDS)
                pipe.hset(self._procs, PROCESS_ID, orjson.dumps(facts).decode())
                await pipe.execute()
        except Exception:
            # Counts are kept for the next try rather than lost to a Redis blip.
            for second, counts in pending.items():
                self.pending[second].update(counts)
            raise

    async def buckets(self, seconds: list[int]) -> list[dict[str, int]]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for second in seconds:
                pipe.hgetall(self._bucket(second))
            raw = await pipe.execute()
        return [{name: int(value) for name, value in bucket.items()} for bucket in raw]

    async def processes(self) -> list[dict[str, Any]]:
        stale = time.time() - (3 * self.interval + 5)
        raw = await self.redis.hgetall(self._procs)
        live, gone = [], []
        for proc_id, blob in raw.items():
            facts = orjson.loads(blob)
            (live if facts.get("seen", 0) >= stale else gone).append((proc_id, facts))
        if gone:
            await self.redis.hdel(self._procs, *[proc_id for proc_id, _ in gone])
        return [facts for _, facts in sorted(live)]

    async def forget_self(self) -> None:
        await self.redis.hdel(self._procs, PROCESS_ID)

    async def reset(self) -> None:
        await delete_matching(self.redis, [f"{glob_escape(self.prefix)}:ops:*"])
        self.pending.clear()


_backend: StatsBackend | None = None


def get_stats() -> StatsBackend:
    global _backend
    if _backend is None:
        if uses_redis():
            _backend = RedisStats(settings.MCP_REDIS_PREFIX, settings.MCP_STATS_INTERVAL)
        else:
            _backend = MemoryStats()
    return _backend


_job = Periodic("stats flush", lambda: get_stats().flush())


def start() -> None:
    """Start the flush-and-heartbeat loop (Redis mode; idempotent)."""
    if isinstance(get_stats(), RedisStats):
        _job.start(settings.MCP_STATS_INTERVAL)


async def stop() -> None:
    await _job.stop()
    backend = get_stats()
    if isinstance(backend, RedisStats):
        try:
            await backend.flush()
            await backend.forget_self()
        except Exception as exc:
            logger.warning("final stats flush failed: %s", describe_exception(exc))
