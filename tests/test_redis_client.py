"""The multiplexed Redis connection (mcp.redis_client.Multiplexer) against a real redis-server:
every caller gets its own reply, errors stay with their command, a lost connection is
replaced, and the scripts that run on it survive a script cache flush and a restart."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, ResponseError

from mcp.redis_client import Script, close_client, close_redis, get_redis, multiplexer, pack
from tests.support.redis_server import RedisServer

ECHO_KEY = Script("return {KEYS[1], ARGV[1]}")


@pytest.mark.parametrize(
    "args",
    [("GET", "k"), ("EVALSHA", "ab", 2, "k1", "k2", 1795969075.038391, -3, "héllo", b"\x00\xff", "")],
)
def test_commands_are_packed_as_redis_py_packs_them(args: tuple) -> None:
    assert pack(args) == b"".join(Connection().pack_command(*args))


def test_an_argument_redis_cannot_take_is_refused() -> None:
    with pytest.raises(DataError):
        pack(("SET", "k", True))


@pytest.fixture
async def client(redis_url: str):
    made = get_redis(redis_url)
    yield made
    await close_redis(redis_url)


async def test_concurrent_callers_each_get_their_own_reply(client) -> None:
    lane = multiplexer(client)
    await asyncio.gather(*(lane.execute("SET", f"mux:k{i}", str(i)) for i in range(300)))
    replies = await asyncio.gather(*(lane.execute("GET", f"mux:k{i}") for i in range(300)))
    assert replies == [str(i) for i in range(300)]
    # All on one connection.
    assert len(set(await asyncio.gather(*(lane.execute("CLIENT", "ID") for _ in range(50))))) == 1


async def test_an_error_reply_fails_only_its_own_command(client) -> None:
    lane = multiplexer(client)
    await lane.execute("SET", "mux:a", "1")
    first, wrong, last = await asyncio.gather(
        lane.execute("GET", "mux:a"),
        lane.execute("INCR", "mux:a", "extra"),
        lane.execute("GET", "mux:a"),
        return_exceptions=True,
    )
    assert first == "1" and last == "1"
    assert isinstance(wrong, ResponseError)


async def test_a_cancelled_caller_does_not_shift_the_replies(client) -> None:
    lane = multiplexer(client)
    await lane.execute("SET", "mux:slow", "x")
    await lane.execute("SET", "mux:next", "y")
    doomed = asyncio.ensure_future(lane.execute("GET", "mux:slow"))
    await asyncio.sleep(0)  # queued and flushed
    doomed.cancel()
    assert await lane.execute("GET", "mux:next") == "y"
    assert await lane.execute("GET", "mux:slow") == "x"


async def test_a_killed_connection_fails_what_is_in_flight_then_is_replaced(client) -> None:
    lane = multiplexer(client)
    await lane.execute("SET", "mux:alive", "1")
    own_id = await lane.execute("CLIENT", "ID")
    blocked = asyncio.ensure_future(lane.execute("BLPOP", "mux:never", "5"))
    await asyncio.sleep(0.1)
    await client.execute_command("CLIENT", "KILL", "ID", str(own_id))
    with pytest.raises(RedisConnectionError):
        await blocked
    assert await lane.execute("GET", "mux:alive") == "1"
    assert await lane.execute("CLIENT", "ID") != own_id


async def test_scripts_reload_after_a_flush_and_survive_a_restart(own_redis: RedisServer) -> None:
    made = get_redis(own_redis.url)
    try:
        assert await ECHO_KEY(made, ["k"], ["v"]) == ["k", "v"]
        await made.execute_command("SCRIPT", "FLUSH")
        assert await ECHO_KEY(made, ["k"], ["w"]) == ["k", "w"]
        own_redis.restart()  # the multiplexed connection dies with the server: retried once
        assert await ECHO_KEY(made, ["k"], ["after"]) == ["k", "after"]
    finally:
        await close_redis(own_redis.url)


async def test_a_connection_that_answers_nothing_fails_at_the_socket_timeout_then_is_replaced(
    redis_url: str,
) -> None:
    import redis.asyncio as aioredis
    from redis.exceptions import TimeoutError as RedisTimeoutError

    quick = aioredis.Redis.from_pool(
        aioredis.BlockingConnectionPool.from_url(redis_url, decode_responses=True, socket_timeout=0.5)
    )
    other = get_redis(redis_url)
    try:
        lane = multiplexer(quick)
        await lane.execute("SET", "mux:paused", "1")
        own_id = await lane.execute("CLIENT", "ID")
        await other.execute_command("CLIENT", "PAUSE", "2000", "ALL")
        started = asyncio.get_running_loop().time()
        with pytest.raises(RedisTimeoutError):
            await lane.execute("GET", "mux:paused")
        waited = asyncio.get_running_loop().time() - started
        assert 0.4 < waited < 1.9  # the socket timeout (up to twice it), not the pause
        await other.execute_command("CLIENT", "UNPAUSE")
        assert await lane.execute("GET", "mux:paused") == "1"
        assert await lane.execute("CLIENT", "ID") != own_id
    finally:
        await close_client(quick)
        await close_redis(redis_url)
