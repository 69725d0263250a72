"""Redis round trips per operation, counted at the multiplexed connection (``SENT``).

A round trip is one write of commands whose replies are then awaited together. The
counts here are what a client's requests cost one after another; a change that adds one
to a session's life or a call fails here, not only in the benchmark.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable

import pytest
import redis.asyncio as aioredis

from mcp import figures
from mcp.bus import OUTBOX, StreamClosed, get_bus
from mcp.redis_client import SENT
from mcp.sessions import operations
from mcp.store import get_store
from mcp.store.base import Claim
from mcp.store.redis import RedisSessionStore
from mcp.traffic import record as traffic
from tests.support.client import McpClient
from tests.support.modern_client import modern_post


@pytest.fixture
async def redis_store(settings, redis_url: str) -> AsyncIterator[RedisSessionStore]:
    """The app in Redis mode; write-behind writes wait for a command (never for the clock)."""
    settings.MCP_STORE = "redis"
    settings.REDIS_URL = redis_url
    settings.MCP_REDIS_PREFIX = f"rt-{uuid.uuid4().hex[:12]}"
    get_store.cache_clear()
    get_bus.cache_clear()
    store = get_store()
    assert isinstance(store, RedisSessionStore)
    store.write_delay = 3600.0
    yield store
    bus = get_bus()
    await store.flush()
    await store.reset()
    await store.close()
    await bus.reset()
    await bus.close()
    get_store.cache_clear()
    get_bus.cache_clear()


@pytest.fixture
async def warm(mcp_client: McpClient, redis_store: RedisSessionStore) -> McpClient:
    """A session that has made one call already (this process keeps its record)."""
    await mcp_client.initialize()
    await mcp_client.tool_text("echo", {"message": "warm"})
    return mcp_client


def another_process(store: RedisSessionStore, settings) -> RedisSessionStore:
    """The same Redis and prefix seen by a store object of its own, as another process has."""
    return RedisSessionStore(
        timeout=settings.MCP_SESSION_TIMEOUT, url=settings.REDIS_URL, prefix=store.prefix
    )


async def round_trips(action: Awaitable[object]) -> int:
    before = SENT.round_trips
    await action
    return SENT.round_trips - before


async def life(client: McpClient) -> tuple[int, int, int]:
    """Round trips of initialize, notifications/initialized and DELETE."""
    opened = await round_trips(client.initialize(send_initialized=False))
    note = client.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    initialized = await round_trips(note)
    deleted = await round_trips(client.http.delete(client.path, headers=client.headers()))
    client.session_id = None
    return opened, initialized, deleted


async def test_a_sessions_life_takes_three_round_trips(mcp_client: McpClient, redis_store) -> None:
    await life(mcp_client)  # connections opened, scripts loaded
    assert await life(mcp_client) == (1, 1, 1)


async def test_each_step_did_its_work_in_those_round_trips(mcp_client: McpClient, redis_store) -> None:
    await life(mcp_client)
    await mcp_client.initialize()
    session_id = mcp_client.session_id
    # The initialize's traffic entry rode on the initialized notification's round trip, and
    # the flag and that notification's entry ride on the next command.
    recorded = await traffic.recent(redis_store, session_id)
    assert [entry["method"] for entry in recorded] == ["initialize", "notifications/initialized"]
    found = await redis_store.get(session_id)
    assert found is not None and found.initialized
    response = await mcp_client.http.delete(mcp_client.path, headers=mcp_client.headers())
    assert response.status_code == 204
    assert await redis_store.get(session_id) is None
    assert await get_bus().exists(session_id, "g") is False


async def test_a_call_takes_one_round_trip_its_state_write_included(warm: McpClient, redis_store) -> None:
    session = warm
    # The session's touch (with the last exchange's traffic entry ahead of it) ...
    assert await round_trips(session.rpc("tools/list")) == 1
    # ... and for echo, a blind tool run on the record this process read, its touch and its
    # write of the last message in one step, made before the answer (another process may
    # serve the client's next request):
    assert await round_trips(session.tool_text("echo", {"message": "hi"})) == 1
    found = await redis_store.get(session.session_id, touch=False)
    assert found is not None and found.state["last_echo"] == "hi"
    assert await round_trips(session.tool_text("replayLastEcho")) == 1


async def test_a_call_on_a_record_changed_elsewhere_commits_against_the_fresh_one(
    warm: McpClient, redis_store, settings
) -> None:
    session = warm
    # Another process (its own store object) changes the record: the version moves.
    other = another_process(redis_store, settings)
    assert await other.update(session.session_id, log_level="debug")
    # The commit finds the change, writes nothing and reads the record as it is now; nothing
    # there changes how echo runs, so it commits against that: one more round trip, no rerun.
    assert await round_trips(session.tool_text("echo", {"message": "again"})) == 2
    found = await redis_store.get(session.session_id, touch=False)
    assert found is not None and found.state["last_echo"] == "again" and found.log_level == "debug"
    assert await round_trips(session.tool_text("echo", {"message": "after"})) == 1
    await other.close()


async def test_a_call_on_a_record_deleted_elsewhere_is_404(warm: McpClient, redis_store, settings) -> None:
    session = warm
    other = another_process(redis_store, settings)
    assert await other.delete(session.session_id)
    response = await session.post(
        {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": "x"}},
        }
    )
    assert response.status_code == 404
    assert await redis_store.get(session.session_id, touch=False) is None
    await other.close()


async def test_concurrent_calls_on_one_record_all_commit(warm: McpClient, redis_store) -> None:
    session = warm
    before = SENT.round_trips
    answers = await asyncio.gather(*(session.tool_text("echo", {"message": f"m{i}"}) for i in range(20)))
    assert all(answer.endswith(f"m{i}") for i, answer in enumerate(answers))
    assert SENT.round_trips - before <= 20
    found = await redis_store.get(session.session_id, touch=False)
    assert found is not None and found.state["last_echo"] in {f"m{i}" for i in range(20)}
    assert found.requests >= 22


async def test_a_delete_for_someone_elses_or_an_unknown_session_is_404_in_one_round_trip(
    mcp_client: McpClient, redis_store
) -> None:
    await life(mcp_client)
    headers = mcp_client.headers(**{"Mcp-Session-Id": uuid.uuid4().hex})
    before = SENT.round_trips
    response = await mcp_client.http.delete(mcp_client.path, headers=headers)
    assert response.status_code == 404
    assert SENT.round_trips - before == 1


async def test_store_operations_one_round_trip_each_with_queued_writes_riding_along(
    redis_store: RedisSessionStore,
) -> None:
    created = await redis_store.create(protocol_version="2025-11-25", client_info={}, client_capabilities={})
    assert (
        await round_trips(
            redis_store.create(protocol_version="2025-11-25", client_info={}, client_capabilities={})
        )
        == 1
    )
    redis_store.append_log(created.id, b"entry", cap=10)
    redis_store.update_soon(created.id, initialized=True)
    assert await round_trips(redis_store.get(created.id)) == 1
    assert await round_trips(redis_store.set_state(created.id, "k", 1)) == 1
    assert await round_trips(redis_store.flush()) == 0  # it went with the get
    found = await redis_store.get(created.id)
    assert found is not None and found.initialized and found.state == {"k": 1}
    assert await redis_store.read_log(created.id) == [b"entry"]


async def test_ending_a_session_drops_its_streams_in_the_same_round_trip_and_only_for_its_owner(
    redis_store: RedisSessionStore,
) -> None:
    bus = get_bus()
    owned = await redis_store.create(
        protocol_version="2025-11-25", client_info={}, client_capabilities={}, principal="alice"
    )
    await bus.publish(owned.id, OUTBOX, {"n": 1})
    reader = asyncio.create_task(bus.read(owned.id, OUTBOX, 1, 5))
    await asyncio.sleep(0.05)
    mallory = Claim(principal="mallory", stateless=False, modern_version="2026-07-28")
    assert await round_trips(operations.end_if(owned.id, mallory, redis_store, bus)) == 1
    assert await bus.exists(owned.id, OUTBOX) and not reader.done()
    alice = Claim(principal="alice", stateless=False, modern_version="2026-07-28")
    assert await round_trips(operations.end_if(owned.id, alice, redis_store, bus)) == 1
    with pytest.raises(StreamClosed):
        await asyncio.wait_for(reader, 2)
    assert not await bus.exists(owned.id, OUTBOX)
    assert await redis_store.get(owned.id) is None


async def test_a_sessions_first_call_commits_in_one_round_trip(mcp_client: McpClient, redis_store) -> None:
    # The initialized flag, written behind, moves the version ahead of the call's commit: the
    # record this process keeps follows its own writes, so the first call is not run twice.
    await mcp_client.initialize()
    assert await round_trips(mcp_client.tool_text("echo", {"message": "first"})) == 1
    found = await redis_store.get(mcp_client.session_id, touch=False)
    assert found is not None and found.initialized and found.state["last_echo"] == "first"


async def test_commit_counts_only_other_processes_changes(redis_store: RedisSessionStore, settings) -> None:
    created = await redis_store.create(protocol_version="2025-11-25", client_info={}, client_capabilities={})
    assert redis_store.cached(created.id) is None  # nothing read yet
    await redis_store.get(created.id)
    session, seen = redis_store.cached(created.id)
    assert session.id == created.id
    # This process's own write since the read is followed: the commit goes through.
    assert await redis_store.set_state(created.id, "mine", 1)
    assert await redis_store.commit(created.id, seen, {"blind": "a"}) == "committed"
    # Another process's write is a change: nothing is written, the record is read afresh.
    other = another_process(redis_store, settings)
    await redis_store.get(created.id)
    _, seen = redis_store.cached(created.id)
    assert await other.set_state(created.id, "theirs", 2)
    assert await redis_store.commit(created.id, seen, {"blind": "b"}) == "stale"
    # Nothing was written; the record as it is now was read in the same step.
    fresh, seen = redis_store.cached(created.id)
    assert fresh.state == {"mine": 1, "blind": "a", "theirs": 2}
    assert await redis_store.commit(created.id, seen, {"blind": "b"}) == "committed"
    found = await redis_store.get(created.id, touch=False)
    assert found is not None and found.state == {"mine": 1, "blind": "b", "theirs": 2}
    # A record deleted since: gone, and nothing is written.
    await redis_store.get(created.id)
    _, seen = redis_store.cached(created.id)
    assert await other.delete(created.id)
    assert await redis_store.commit(created.id, seen, {"blind": "c"}) == "gone"
    assert await redis_store.get(created.id, touch=False) is None
    await other.close()


async def test_a_stateless_call_minting_a_handle_takes_two_round_trips_all_multiplexed(
    http, redis_store: RedisSessionStore, monkeypatch
) -> None:
    pooled: list[tuple] = []
    original = aioredis.Redis.execute_command

    async def counted(self, *args, **options):
        pooled.append(args)
        return await original(self, *args, **options)

    monkeypatch.setattr(aioredis.Redis, "execute_command", counted)
    arguments = {"name": "echo", "arguments": {"message": "hi"}}
    first = await modern_post(http, "tools/call", arguments)  # the shared state key read once
    assert first.status_code == 200
    pooled.clear()
    trips = await round_trips(modern_post(http, "tools/call", arguments))
    # The handle's creation (its kind noted in the same script) and echo's state write; the
    # shared state key is not read again, and nothing goes through a pooled connection.
    assert trips == 2
    assert pooled == []
    stats = await redis_store.stats()
    assert stats.active_by_kind[figures.STATE_HANDLE] == 2
