"""The Bus contract, run against every backend (memory and Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from mcp.bus.base import OUTBOX, Bus, Event, StreamClosed
from mcp.bus.memory import MemoryBus
from mcp.bus.redis import INLINE_LIMIT, RedisBus
from mcp.errors import StoreUnavailable
from tests.support.redis_server import RedisServer, free_port

MakeBus = Callable[..., Bus]
DEFAULTS = {"outbox_capacity": 100, "stream_capacity": 100, "retained_streams": 16}


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[MakeBus]:
    """Builds buses of one backend; Redis buses made by one test share a fresh prefix,
    so two of them behave like two processes of one deployment."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    made: list[Bus] = []

    def make(**options: int) -> Bus:
        bus: Bus
        if request.param == "memory":
            bus = MemoryBus(**{**DEFAULTS, **options})
        else:
            bus = RedisBus(url=url, prefix=prefix, **{**DEFAULTS, **options})
        made.append(bus)
        return bus

    yield make
    for bus in made:
        if isinstance(bus, RedisBus):
            await bus.reset()
            await bus.close()
        elif isinstance(bus, MemoryBus):
            bus.reset()


@pytest.fixture
def bus(make_bus: MakeBus) -> Bus:
    return make_bus()


@pytest.fixture
def sid() -> str:
    return uuid.uuid4().hex


def seqs(events: list[Event]) -> list[int]:
    return [event.seq for event in events]


async def until_waiting(task: asyncio.Task[object]) -> None:
    """Give a reader time to start waiting, and check that it does."""
    await asyncio.sleep(0.1)
    assert not task.done()


class TestBusContract:
    async def test_events_are_read_in_order_with_ids_naming_their_stream(self, bus: Bus, sid: str) -> None:
        published = [await bus.publish(sid, OUTBOX, {"n": n}) for n in range(3)]
        assert [event.id for event in published] == ["g-1", "g-2", "g-3"]
        assert await bus.read(sid, OUTBOX, 0, 0) == published
        assert await bus.read(sid, OUTBOX, 2, 0) == published[2:]
        assert await bus.read(sid, OUTBOX, 3, 0) == []

    async def test_concurrent_publishes_get_consecutive_seqs(self, bus: Bus, sid: str) -> None:
        published = await asyncio.gather(*(bus.publish(sid, OUTBOX, {"n": n}) for n in range(50)))
        assert sorted(seqs(list(published))) == list(range(1, 51))
        events = await bus.read(sid, OUTBOX, 0, 0)
        assert seqs(events) == list(range(1, 51))
        assert {event.message["n"] for event in events if event.message} == set(range(50))

    async def test_a_request_stream_carries_priming_messages_and_its_final_response(
        self, bus: Bus, sid: str
    ) -> None:
        stream = await bus.new_stream(sid)
        assert stream == "r1"
        await bus.publish(sid, stream, None)
        await bus.publish(sid, stream, {"method": "notifications/progress"})
        await bus.publish(sid, stream, {"id": 1, "result": {}}, final=True)
        await bus.publish(sid, stream, None, hangup=True)
        events = await bus.read(sid, stream, 0, 0)
        assert [(e.id, e.message, e.final, e.hangup) for e in events] == [
            ("r1-1", None, False, False),
            ("r1-2", {"method": "notifications/progress"}, False, False),
            ("r1-3", {"id": 1, "result": {}}, True, False),
            ("r1-4", None, False, True),
        ]
        assert (await bus.info(sid, stream)).finished
        assert await bus.new_stream(sid) == "r2"

    async def test_read_waits_and_wakes_on_publish(self, bus: Bus, sid: str) -> None:
        await bus.publish(sid, OUTBOX, None)
        reader = asyncio.create_task(bus.read(sid, OUTBOX, 1, 5))
        await until_waiting(reader)
        started = time.monotonic()
        event = await bus.publish(sid, OUTBOX, {"n": 1})
        assert await asyncio.wait_for(reader, 2) == [event]
        assert time.monotonic() - started < 1

    async def test_read_returns_nothing_on_timeout(self, bus: Bus, sid: str) -> None:
        await bus.publish(sid, OUTBOX, {"n": 1})
        started = time.monotonic()
        assert await bus.read(sid, OUTBOX, 1, 0.2) == []
        assert 0.15 <= time.monotonic() - started < 2

    async def test_a_session_the_bus_has_not_seen_is_empty_and_waits(self, bus: Bus, sid: str) -> None:
        assert await bus.read(sid, OUTBOX, 0, 0) == []
        reader = asyncio.create_task(bus.read(sid, OUTBOX, 0, 5))
        await until_waiting(reader)
        event = await bus.publish(sid, OUTBOX, {"n": 1})
        assert await asyncio.wait_for(reader, 2) == [event]

    async def test_a_publish_after_drop_session_is_discarded(self, bus: Bus, sid: str) -> None:
        await bus.publish(sid, OUTBOX, {"n": 1})
        await bus.drop_session(sid)
        late = await bus.publish(sid, OUTBOX, {"n": 2}, final=True)
        assert late.seq == 0
        assert not await bus.exists(sid, OUTBOX)
        with pytest.raises(StreamClosed):
            await bus.read(sid, OUTBOX, 0, 0)

    async def test_a_full_stream_drops_its_oldest_events_and_counts_them(
        self, make_bus: MakeBus, sid: str
    ) -> None:
        bus = make_bus(outbox_capacity=3, stream_capacity=2)
        for n in range(5):
            await bus.publish(sid, OUTBOX, {"n": n})
        assert seqs(await bus.read(sid, OUTBOX, 0, 0)) == [3, 4, 5]
        assert (await bus.info(sid, OUTBOX)).dropped == 2
        stream = await bus.new_stream(sid)
        for n in range(3):
            await bus.publish(sid, stream, {"n": n})
        assert seqs(await bus.read(sid, stream, 0, 0)) == [2, 3]
        assert (await bus.info(sid, stream)).dropped == 1

    async def test_the_delivered_cursor_only_moves_forward(self, bus: Bus, sid: str) -> None:
        await bus.publish(sid, OUTBOX, None)
        await bus.publish(sid, OUTBOX, {"n": 1})
        await bus.publish(sid, OUTBOX, {"n": 2})
        info = await bus.info(sid, OUTBOX)
        assert (info.queued, info.delivered) == (2, 0)
        await bus.mark_delivered(sid, OUTBOX, 2)
        await bus.mark_delivered(sid, OUTBOX, 1)
        assert await bus.delivered(sid, OUTBOX) == 2
        assert (await bus.info(sid, OUTBOX)).queued == 1

    async def test_a_claim_replaces_the_owner_and_wakes_the_old_reader(self, bus: Bus, sid: str) -> None:
        first = await bus.claim(sid, OUTBOX)
        reader = asyncio.create_task(bus.read(sid, OUTBOX, 0, 5))
        await until_waiting(reader)
        second = await bus.claim(sid, OUTBOX)
        assert second > first
        assert await bus.owner(sid, OUTBOX) == second
        assert await asyncio.wait_for(reader, 2) == []

    async def test_follow_records_what_was_passed_on_and_reads_on(self, bus: Bus, sid: str) -> None:
        token = await bus.claim(sid, OUTBOX)
        published = [await bus.publish(sid, OUTBOX, {"n": n}) for n in range(3)]
        assert await bus.follow(sid, OUTBOX, 0, token, 0) == published
        assert await bus.delivered(sid, OUTBOX) == 0
        assert await bus.follow(sid, OUTBOX, 3, token, 0.05, delivered=3) == []
        assert await bus.delivered(sid, OUTBOX) == 3
        assert (await bus.info(sid, OUTBOX)).queued == 0
        reader = asyncio.create_task(bus.follow(sid, OUTBOX, 3, token, 5))
        await until_waiting(reader)
        event = await bus.publish(sid, OUTBOX, {"n": 3})
        assert await asyncio.wait_for(reader, 2) == [event]

    async def test_follow_ends_once_a_newer_reader_claims_the_stream(self, bus: Bus, sid: str) -> None:
        token = await bus.claim(sid, OUTBOX)
        reader = asyncio.create_task(bus.follow(sid, OUTBOX, 0, token, 5))
        await until_waiting(reader)
        newer = await bus.claim(sid, OUTBOX)
        # Published after the claim: the old reader must not get it.
        await bus.publish(sid, OUTBOX, {"for": "the newer reader"})
        with pytest.raises(StreamClosed):
            await asyncio.wait_for(reader, 2)
        with pytest.raises(StreamClosed):
            await bus.follow(sid, OUTBOX, 0, token, 0, delivered=1)
        assert await bus.delivered(sid, OUTBOX) == 1  # recorded before the owner is checked
        followed = await bus.follow(sid, OUTBOX, 0, newer, 0)
        assert [event.message for event in followed] == [{"for": "the newer reader"}]

    async def test_follow_ends_when_the_session_is_dropped(self, bus: Bus, sid: str) -> None:
        token = await bus.claim(sid, OUTBOX)
        reader = asyncio.create_task(bus.follow(sid, OUTBOX, 0, token, 5))
        await until_waiting(reader)
        await bus.drop_session(sid)
        with pytest.raises(StreamClosed):
            await asyncio.wait_for(reader, 2)
        with pytest.raises(StreamClosed):
            await bus.follow(sid, OUTBOX, 0, token, 0, delivered=1)
        assert not await bus.exists(sid, OUTBOX)  # a late record does not bring the session back

    async def test_a_reader_woken_while_behind_gets_every_event_in_order(self, bus: Bus, sid: str) -> None:
        stream = await bus.new_stream(sid)
        await bus.publish(sid, stream, None)
        reader = asyncio.create_task(bus.read(sid, stream, 1, 5))
        await until_waiting(reader)
        published = list(
            await asyncio.gather(
                bus.publish(sid, stream, {"n": 1}),
                bus.publish(sid, stream, {"n": 2}),
                bus.publish(sid, stream, {"id": 1, "result": {}}, final=True),
            )
        )
        got = await asyncio.wait_for(reader, 2)
        while got[-1].seq < 4:
            got += await bus.read(sid, stream, got[-1].seq, 2)
        assert got == sorted(published, key=lambda event: event.seq)

    async def test_drop_session_ends_a_waiting_reader_and_forgets_the_streams(
        self, bus: Bus, sid: str
    ) -> None:
        stream = await bus.new_stream(sid)
        await bus.publish(sid, OUTBOX, {"n": 1})
        reader = asyncio.create_task(bus.read(sid, OUTBOX, 1, 5))
        await until_waiting(reader)
        await bus.drop_session(sid)
        with pytest.raises(StreamClosed):
            await asyncio.wait_for(reader, 2)
        with pytest.raises(StreamClosed):
            await bus.read(sid, OUTBOX, 0, 0)
        assert not await bus.exists(sid, stream)
        assert not await bus.exists(sid, OUTBOX)

    async def test_exists_names_only_the_sessions_own_streams(self, bus: Bus, sid: str) -> None:
        stream = await bus.new_stream(sid)
        assert await bus.exists(sid, stream)
        assert not await bus.exists(sid, "r99")
        assert not await bus.exists(uuid.uuid4().hex, stream)

    async def test_old_finished_request_streams_are_forgotten_beyond_the_retained_number(
        self, make_bus: MakeBus, sid: str
    ) -> None:
        bus = make_bus(retained_streams=2)
        for _ in range(3):
            stream = await bus.new_stream(sid)
            await bus.publish(sid, stream, {"result": {}}, final=True)
        unfinished = [await bus.new_stream(sid) for _ in range(3)]
        assert unfinished == ["r4", "r5", "r6"]
        assert [await bus.exists(sid, f"r{n}") for n in range(1, 7)] == [False] * 3 + [True] * 3

    async def test_a_reply_reaches_its_waiter_once(self, bus: Bus, sid: str) -> None:
        await bus.publish(sid, OUTBOX, None)
        waiter = bus.expect_reply(sid, "srv-1")
        try:
            pending = asyncio.create_task(waiter.wait(5))
            await asyncio.sleep(0.05)
            reply = {"jsonrpc": "2.0", "id": "srv-1", "result": {"ok": True}}
            assert await bus.deliver_reply(sid, "srv-1", reply) is True
            assert await asyncio.wait_for(pending, 2) == reply
            assert await bus.deliver_reply(sid, "srv-1", reply) is False
        finally:
            await waiter.close()

    async def test_a_reply_nobody_waits_for_is_refused(self, bus: Bus, sid: str) -> None:
        assert await bus.deliver_reply(sid, "srv-unknown", {"id": "srv-unknown", "result": {}}) is False
        waiter = bus.expect_reply(sid, "srv-2")
        await waiter.close()
        assert await bus.deliver_reply(sid, "srv-2", {"id": "srv-2", "result": {}}) is False

    async def test_waiting_for_a_reply_times_out_with_none(self, bus: Bus, sid: str) -> None:
        waiter = bus.expect_reply(sid, "srv-3")
        try:
            assert await waiter.wait(0.2) is None
        finally:
            await waiter.close()

    async def test_drop_session_cancels_its_reply_waiters(self, bus: Bus, sid: str) -> None:
        await bus.publish(sid, OUTBOX, None)
        waiter = bus.expect_reply(sid, "srv-4")
        try:
            pending = asyncio.create_task(waiter.wait(5))
            await until_waiting(pending)
            await bus.drop_session(sid)
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(pending, 2)
        finally:
            await waiter.close()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def processes(redis_url: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """Two buses on one Redis and prefix: two processes of one deployment."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    first, second = (RedisBus(url=redis_url, prefix=prefix, **DEFAULTS) for _ in range(2))
    yield first, second
    await first.reset()
    for bus in (first, second):
        await bus.close()


class TestRedisBus:
    async def test_a_publish_on_one_process_wakes_a_reader_on_another(
        self, processes: tuple[RedisBus, RedisBus], sid: str
    ) -> None:
        a, b = processes
        await b.publish(sid, OUTBOX, None)
        reader = asyncio.create_task(a.read(sid, OUTBOX, 1, 5))
        await until_waiting(reader)
        event = await b.publish(sid, OUTBOX, {"n": 1})
        assert await asyncio.wait_for(reader, 2) == [event]

    async def test_a_reader_on_another_process_gets_each_event_whole_small_or_large(
        self, processes: tuple[RedisBus, RedisBus], sid: str
    ) -> None:
        a, b = processes
        stream = await b.new_stream(sid)
        messages = [
            {"text": "small: a:colon-rich 'w:g:1' body"},
            {"text": "large " + "x" * INLINE_LIMIT},
            None,
        ]
        flags = [{}, {}, {"final": True}, {"hangup": True}]
        for seq, (message, flag) in enumerate(zip([*messages, None], flags, strict=True), start=1):
            reader = asyncio.create_task(a.read(sid, stream, seq - 1, 5))
            await until_waiting(reader)
            event = await b.publish(sid, stream, message, **flag)
            assert await asyncio.wait_for(reader, 2) == [event]
        assert await a.read(sid, stream, 0, 0) == await b.read(sid, stream, 0, 0)

    async def test_a_claim_on_another_process_wakes_the_old_reader(
        self, processes: tuple[RedisBus, RedisBus], sid: str
    ) -> None:
        a, b = processes
        token = await a.claim(sid, OUTBOX)
        reader = asyncio.create_task(a.read(sid, OUTBOX, 0, 5))
        await until_waiting(reader)
        assert await b.claim(sid, OUTBOX) == token + 1
        assert await asyncio.wait_for(reader, 2) == []
        assert await a.owner(sid, OUTBOX) == token + 1

    async def test_drop_session_on_another_process_ends_a_reader(
        self, processes: tuple[RedisBus, RedisBus], sid: str
    ) -> None:
        a, b = processes
        await a.publish(sid, OUTBOX, None)
        reader = asyncio.create_task(a.read(sid, OUTBOX, 1, 5))
        await until_waiting(reader)
        await b.drop_session(sid)
        with pytest.raises(StreamClosed):
            await asyncio.wait_for(reader, 2)
        assert (await a.publish(sid, OUTBOX, {"late": True})).seq == 0
        with pytest.raises(StreamClosed):
            await a.read(sid, OUTBOX, 0, 0)

    async def test_a_reply_posted_to_another_process_reaches_the_waiter(
        self, processes: tuple[RedisBus, RedisBus], sid: str
    ) -> None:
        a, b = processes
        waiter = a.expect_reply(sid, "srv-x-1")
        try:
            pending = asyncio.create_task(waiter.wait(5))
            await until_waiting(pending)
            reply = {"jsonrpc": "2.0", "id": "srv-x-1", "result": {"roots": []}}
            assert await b.deliver_reply(sid, "srv-x-1", reply) is True
            assert await asyncio.wait_for(pending, 2) == reply
        finally:
            await waiter.close()
        assert await b.deliver_reply(sid, "srv-x-1", reply) is False

    async def test_a_reply_that_overtakes_the_waiters_registration_is_kept_for_it(
        self, processes: tuple[RedisBus, RedisBus], sid: str
    ) -> None:
        a, b = processes
        waiter = a.expect_reply(sid, "srv-x-2")
        try:
            reply = {"jsonrpc": "2.0", "id": "srv-x-2", "result": {}}
            await b.deliver_reply(sid, "srv-x-2", reply)
            assert await waiter.wait(2) == reply
        finally:
            await waiter.close()

    async def test_one_subscription_per_session_however_many_readers(
        self, processes: tuple[RedisBus, RedisBus], raw: aioredis.Redis, sid: str
    ) -> None:
        a, _ = processes
        streams = [await a.new_stream(sid) for _ in range(4)]
        readers = [asyncio.create_task(a.read(sid, stream, 0, 5)) for stream in streams * 5]
        await asyncio.sleep(0.2)
        channel = f"{a.prefix}:bc:{sid}"
        assert await raw.pubsub_numsub(channel) == [(channel, 1)]
        await a.drop_session(sid)
        for reader in readers:
            with pytest.raises(StreamClosed):
                await reader

    async def test_a_reader_that_finds_a_backlog_already_subscribes_for_its_next_wait(
        self, processes: tuple[RedisBus, RedisBus], raw: aioredis.Redis, sid: str
    ) -> None:
        a, b = processes
        event = await b.publish(sid, OUTBOX, {"n": 1})
        assert await a.read(sid, OUTBOX, 0, 5) == [event]
        channel = f"{a.prefix}:bc:{sid}"
        for _ in range(100):
            if await raw.pubsub_numsub(channel) == [(channel, 1)]:
                break
            await asyncio.sleep(0.02)
        assert await raw.pubsub_numsub(channel) == [(channel, 1)]
        reader = asyncio.create_task(a.read(sid, OUTBOX, 1, 5))
        await until_waiting(reader)
        later = await b.publish(sid, OUTBOX, {"n": 2})
        assert await asyncio.wait_for(reader, 2) == [later]

    async def test_session_keys_expire_and_drop_session_removes_them(
        self, processes: tuple[RedisBus, RedisBus], raw: aioredis.Redis, sid: str
    ) -> None:
        a, _ = processes
        stream = await a.new_stream(sid)
        await a.publish(sid, stream, {"n": 1})
        await a.publish(sid, OUTBOX, {"n": 2})
        await a.claim(sid, OUTBOX)
        keys = [key async for key in raw.scan_iter(match=f"{a.prefix}:b*:{sid}")]
        assert len(keys) == 3
        for key in keys:
            assert 0 < await raw.pttl(key) <= 86_400_000
        await a.drop_session(sid)
        left = [key async for key in raw.scan_iter(match=f"{a.prefix}:b*:{sid}")]
        assert left == [f"{a.prefix}:bd:{sid}"]
        assert 0 < await raw.pttl(left[0]) <= 3_600_000

    async def test_a_closed_bus_can_be_used_again(
        self, processes: tuple[RedisBus, RedisBus], sid: str
    ) -> None:
        a, b = processes
        await a.publish(sid, OUTBOX, None)
        assert await a.read(sid, OUTBOX, 1, 0.05) == []
        await a.close()
        reader = asyncio.create_task(a.read(sid, OUTBOX, 1, 5))
        await until_waiting(reader)
        event = await b.publish(sid, OUTBOX, {"n": 1})
        assert await asyncio.wait_for(reader, 2) == [event]

    async def test_an_unreachable_redis_is_unavailable(self, sid: str) -> None:
        bus = RedisBus(url=f"redis://127.0.0.1:{free_port()}/0", **DEFAULTS)
        try:
            with pytest.raises(StoreUnavailable):
                await bus.publish(sid, OUTBOX, {"n": 1})
            with pytest.raises(StoreUnavailable):
                await bus.read(sid, OUTBOX, 0, 0.1)
        finally:
            await bus.close()

    async def test_a_redis_restart_costs_requests_during_the_outage_only(
        self,
        own_redis: RedisServer,
        sid: str,
    ) -> None:
        a, b = (RedisBus(url=own_redis.url, **DEFAULTS) for _ in range(2))
        try:
            await b.publish(sid, OUTBOX, None)
            assert await a.read(sid, OUTBOX, 1, 0.05) == []
            own_redis.stop()
            with pytest.raises(StoreUnavailable):
                await b.publish(sid, OUTBOX, {"lost": True})
            own_redis.start()
            # Pooled connections died with the server: they are replaced, not reported, and
            # the listener subscribes again and wakes the reader.
            reader = asyncio.create_task(a.read(sid, OUTBOX, 0, 10))
            await until_waiting(reader)
            event = await b.publish(sid, OUTBOX, {"n": 1})
            assert await asyncio.wait_for(reader, 10) == [event]
        finally:
            for bus in (a, b):
                await bus.close()
