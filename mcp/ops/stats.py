"""Rolling request statistics and process heartbeats, kept in the shared store.

Every process counts the figures it records (``mcp.figures``: exchanges by method and outcome,
a latency histogram of request/response exchanges, streams, tool calls by registered tool,
records created by kind) into one-second buckets, and the same counts into cluster-wide
totals (everything but the per-method, per-tool and latency fields). With the memory store the buckets are
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

from mcp import figures
from mcp.calls import running
from mcp.process import draining
from mcp.process.periodic import Periodic
from mcp.redact import describe_exception
from mcp.redis_client import delete_matching, get_redis, glob_escape, uses_redis

logger = logging.getLogger("mcp.ops")

KEEP_SECONDS = 600
RATE_WINDOW = 10  # seconds a rate averages over (the status page's and each process's alike)
# Upper bounds (milliseconds) of the latency histogram's buckets; the last is unbounded.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, float("inf"))

STARTED = time.time()
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}"

# Kept by the access observer: SSE responses open in this process right now, and the MCP
# requests it has served since it started.
local = {"open_streams": 0, "requests": 0}
# This process's own exchanges per second (the last RATE_WINDOW seconds), for its heartbeat.
_own: dict[int, int] = {}


def own_rate(now: float | None = None) -> float:
    """This process's exchanges per second over the last RATE_WINDOW seconds (the current,
    partial one included, as the status page's rate)."""
    current = int(now or time.time())
    for second in [s for s in _own if s <= current - RATE_WINDOW]:
        del _own[second]
    return round(sum(_own.get(s, 0) for s in range(current - RATE_WINDOW + 1, current + 1)) / RATE_WINDOW, 2)


def is_total(field: str) -> bool:
    """Fields also kept as cluster-wide totals: exchanges, outcomes, streams, tool calls, records."""
    return field in ("n", "tc") or field[:2] in ("o:", "c:", "s:")


def totals_of(counts: dict[str, int]) -> dict[str, int]:
    return {field: value for field, value in counts.items() if is_total(field)}


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
        # The second ``observe`` last counted into, and its counter.
        self._second = -1
        self._counts: Counter[str] = Counter()

    def _current(self) -> Counter[str]:
        second = int(time.time())
        if second != self._second:
            self._second, self._counts = second, self.counts_for(second)
        return self._counts

    # The figures' recorder (``mcp.figures.Recorder``).

    def exchange(self, exchange: figures.Exchange) -> None:
        counts = self._current()
        counts["n"] += 1
        local["requests"] += 1
        _own[self._second] = _own.get(self._second, 0) + 1
        counts[f"m:{exchange.method}"] += 1
        if exchange.outcome != figures.OK:
            counts[f"o:{exchange.outcome}"] += 1
        if exchange.stream is None:
            counts[f"h:{latency_bucket(exchange.seconds * 1000)}"] += 1
        else:
            counts[f"s:{exchange.stream}"] += 1

    def tool_call(self, tool: str, outcome: str) -> None:
        counts = self._current()
        counts["tc"] += 1
        counts[f"t:{tool}"] += 1

    def created(self, kind: str) -> None:
        self._current()[f"c:{kind}"] += 1

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

    async def totals(self) -> dict[str, int]:
        """The cluster-wide totals (``is_total`` fields) since the store's start."""
        raise NotImplementedError

    async def processes(self) -> list[dict[str, Any]]:
        raise NotImplementedError


class MemoryStats(StatsBackend):
    def __init__(self) -> None:
        super().__init__()
        self._buckets: dict[int, Counter[str]] = {}
        # The totals of the buckets already pruned.
        self._pruned: Counter[str] = Counter()

    def counts_for(self, second: int) -> Counter[str]:
        """The process's own buckets are the shared ones: counted in place, pruned each second."""
        self._merge()
        return self._buckets.setdefault(second, Counter())

    def _merge(self) -> None:
        for second, counts in self.take_pending().items():
            self._buckets.setdefault(second, Counter()).update(counts)
        cutoff = int(time.time()) - KEEP_SECONDS
        for second in [s for s in self._buckets if s < cutoff]:
            self._pruned.update(totals_of(self._buckets.pop(second)))

    async def flush(self) -> None:
        self._merge()

    async def buckets(self, seconds: list[int]) -> list[dict[str, int]]:
        self._merge()
        return [dict(self._buckets.get(second, {})) for second in seconds]

    async def totals(self) -> dict[str, int]:
        self._merge()
        totals = Counter(self._pruned)
        for counts in self._buckets.values():
            totals.update(totals_of(counts))
        return dict(totals)

    async def processes(self) -> list[dict[str, Any]]:
        facts = process_facts()
        facts["requests_per_second"] = own_rate()
        return [facts]

    def reset(self) -> None:
        self._buckets.clear()
        self._pruned.clear()
        self.pending.clear()
        self._second = -1
        _own.clear()


class RedisStats(StatsBackend):
    def __init__(self, prefix: str, interval: float) -> None:
        super().__init__()
        self.prefix = prefix
        self.interval = interval
        self._procs = f"{prefix}:ops:procs"
        self._totals = f"{prefix}:ops:totals"

    @property
    def redis(self) -> Any:
        return get_redis()

    def _bucket(self, second: int) -> str:
        return f"{self.prefix}:ops:b:{second}"

    async def flush(self) -> None:
        """Add this process's pending counts to the shared buckets and write its heartbeat."""
        pending = self.take_pending()
        facts = process_facts()
        facts["requests_per_second"] = own_rate()
        totals: Counter[str] = Counter()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for second, counts in pending.items():
                    key = self._bucket(second)
                    for name, value in counts.items():
                        pipe.hincrby(key, name, value)
                    pipe.expire(key, KEEP_SECONDS)
                    totals.update(totals_of(counts))
                for name, value in totals.items():
                    pipe.hincrby(self._totals, name, value)
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

    async def totals(self) -> dict[str, int]:
        return {name: int(value) for name, value in (await self.redis.hgetall(self._totals)).items()}

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
        _own.clear()


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
