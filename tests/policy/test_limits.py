"""The per-client rate limit: memory and Redis backends, and through the real /mcp endpoint."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
import redis.asyncio as aioredis

from mcp.errors import StoreUnavailable, TooManyRequests
from mcp.policy import limits
from mcp.policy.limits import MemoryRateLimiter, RedisRateLimiter, check_rate, get_limiter, reset_limiter
from mcp.redis_client import close_redis
from tests.support.client import McpClient
from tests.support.redis_server import free_port


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
async def fresh_limiter():
    await reset_limiter()
    yield
    await reset_limiter()


async def hits(limiter, client: str, count: int) -> None:
    for _ in range(count):
        await limiter.check(client)


# --- Off ------------------------------------------------------------------------------------


async def test_off_by_default_counts_nothing(settings):
    settings.MCP_RATE_LIMIT = 0
    for _ in range(1000):
        await check_rate("127.0.0.1")
    assert limits._limiter is None


# --- Memory backend -------------------------------------------------------------------------


async def test_memory_sixth_request_in_window_is_refused_with_retry_after():
    clock = FakeClock(1_000_000.25)
    limiter = MemoryRateLimiter(5, 1.0, clock=clock)
    await hits(limiter, "a", 5)
    with pytest.raises(TooManyRequests) as caught:
        await limiter.check("a")
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "1"


async def test_memory_clients_are_counted_apart():
    clock = FakeClock()
    limiter = MemoryRateLimiter(5, 1.0, clock=clock)
    await hits(limiter, "a", 5)
    with pytest.raises(TooManyRequests):
        await limiter.check("a")
    await hits(limiter, "b", 5)


async def test_memory_next_window_admits_again():
    clock = FakeClock(1_000_000.0)
    limiter = MemoryRateLimiter(5, 1.0, clock=clock)
    await hits(limiter, "a", 5)
    with pytest.raises(TooManyRequests):
        await limiter.check("a")
    clock.now += 1.0
    await hits(limiter, "a", 5)


async def test_memory_retry_after_is_whole_seconds_to_window_end():
    clock = FakeClock(600.0 * 1000 + 12.3)  # 12.3 s into a 60 s window
    limiter = MemoryRateLimiter(1, 60.0, clock=clock)
    await limiter.check("a")
    with pytest.raises(TooManyRequests) as caught:
        await limiter.check("a")
    assert caught.value.headers["Retry-After"] == "48"


async def test_memory_stays_bounded_under_a_flood_of_distinct_clients():
    clock = FakeClock()
    limiter = MemoryRateLimiter(3, 60.0, max_clients=100, clock=clock)
    await hits(limiter, "regular", 3)
    for n in range(10_000):
        await limiter.check(f"flood-{n}")
        assert len(limiter) <= 100
    # The established client kept its count through the flood.
    with pytest.raises(TooManyRequests):
        await limiter.check("regular")


async def test_memory_drops_past_windows():
    clock = FakeClock()
    limiter = MemoryRateLimiter(3, 1.0, clock=clock)
    for n in range(50):
        await limiter.check(f"c{n}")
    clock.now += 1.0
    await limiter.check("new")
    assert len(limiter) == 1


async def test_check_rate_follows_settings(settings):
    settings.MCP_RATE_LIMIT = 2
    settings.MCP_RATE_WINDOW = 3600.0
    settings.MCP_STORE = "memory"
    get_limiter().clock = FakeClock()
    await check_rate("x")
    await check_rate("x")
    with pytest.raises(TooManyRequests):
        await check_rate("x")
    await check_rate("y")
    assert isinstance(get_limiter(), MemoryRateLimiter)


async def test_real_clock_window_frees_after_retry_after(settings):
    settings.MCP_RATE_LIMIT = 5
    settings.MCP_RATE_WINDOW = 1.0
    # Start early in a window so the five requests cannot straddle two windows.
    while time.time() % 1.0 > 0.3:
        await asyncio.sleep(0.05)
    for _ in range(5):
        await check_rate("me")
    with pytest.raises(TooManyRequests) as caught:
        await check_rate("me")
    retry_after = int(caught.value.headers["Retry-After"])
    assert retry_after == 1
    await check_rate("someone-else")
    await asyncio.sleep(retry_after)
    await check_rate("me")


# --- Through /mcp -----------------------------------------------------------------------------


async def test_endpoint_answers_429_with_retry_after(settings, http):
    settings.MCP_RATE_LIMIT = 5
    settings.MCP_RATE_WINDOW = 3600.0
    get_limiter().clock = FakeClock()
    client = McpClient(http)
    await client.initialize()  # initialize + notifications/initialized: two requests
    for _ in range(3):
        await client.rpc("ping")
    refused = await client.request("ping")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["message"].startswith("Too Many Requests")


# --- Redis backend ------------------------------------------------------------------------


@pytest.fixture
def prefix() -> str:
    return f"test-rate-{secrets.token_hex(4)}"


async def test_redis_processes_share_the_count(redis_url, prefix):
    clock = FakeClock(2_000_000.4)
    first = RedisRateLimiter(5, 1.0, url=redis_url, prefix=prefix, clock=clock)
    second = RedisRateLimiter(5, 1.0, url=redis_url, prefix=prefix, clock=clock)
    try:
        await hits(first, "a", 3)
        await hits(second, "a", 2)
        with pytest.raises(TooManyRequests) as caught:
            await first.check("a")
        assert caught.value.headers["Retry-After"] == "1"
        with pytest.raises(TooManyRequests):
            await second.check("a")
        await hits(second, "b", 5)
        clock.now += 1.0
        await hits(first, "a", 5)
    finally:
        await close_redis(redis_url)


async def test_redis_key_layout_and_expiry(redis_url, prefix):
    clock = FakeClock(3_000_000.5)
    limiter = RedisRateLimiter(5, 10.0, url=redis_url, prefix=prefix, clock=clock)
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        await limiter.check("client-1")
        key = f"{prefix}:rate:client-1:300000"
        assert await raw.get(key) == "1"
        ttl = await raw.pttl(key)
        assert 0 < ttl <= 9_500 + limits.EXPIRY_MARGIN_MS
        await limiter.check("x" * 1000)
        long_keys = [k async for k in raw.scan_iter(match=f"{prefix}:rate:sha256-*")]
        assert len(long_keys) == 1
        assert len(long_keys[0]) < 200
    finally:
        await close_redis(limiter.url)
        await raw.aclose()


async def test_redis_real_window_expires(redis_url, prefix):
    first = RedisRateLimiter(5, 1.0, url=redis_url, prefix=prefix)
    second = RedisRateLimiter(5, 1.0, url=redis_url, prefix=prefix)
    try:
        while time.time() % 1.0 > 0.3:
            await asyncio.sleep(0.05)
        await hits(first, "a", 3)
        await hits(second, "a", 2)
        with pytest.raises(TooManyRequests) as caught:
            await second.check("a")
        await asyncio.sleep(int(caught.value.headers["Retry-After"]))
        await first.check("a")
    finally:
        await close_redis(redis_url)


async def test_check_rate_uses_redis_when_configured(settings, redis_url, prefix):
    settings.MCP_RATE_LIMIT = 1
    settings.MCP_RATE_WINDOW = 3600.0
    settings.MCP_STORE = "redis"
    settings.REDIS_URL = redis_url
    settings.MCP_REDIS_PREFIX = prefix
    get_limiter().clock = FakeClock()
    await check_rate("solo")
    with pytest.raises(TooManyRequests):
        await check_rate("solo")
    assert isinstance(get_limiter(), RedisRateLimiter)


async def test_redis_unreachable_is_store_unavailable():
    limiter = RedisRateLimiter(5, 1.0, url=f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(StoreUnavailable):
            await limiter.check("a")
    finally:
        await close_redis(limiter.url)
