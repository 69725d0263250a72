"""The SessionStore contract, run against every backend (memory and Redis)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis
from django.core.cache.backends.locmem import LocMemCache

import mcp.store.redis as redis_store
from mcp import figures
from mcp.errors import StoreUnavailable
from mcp.store.base import (
    DELETED,
    REFUSED,
    Claim,
    LimitReached,
    Limits,
    Session,
    SessionStore,
    StoreStats,
)
from mcp.store.base import (
    UNKNOWN as GONE,
)
from mcp.store.memory import MemorySessionStore
from mcp.store.redis import RedisSessionStore
from tests.support.redis_server import RedisServer, free_port

MakeStore = Callable[..., SessionStore]
UNKNOWN = "0123456789abcdef0123456789abcdef"


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[MakeStore]:
    """Builds stores of one backend; Redis stores made by one test share a fresh prefix."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    made: list[SessionStore] = []

    def make(timeout: float = 60.0, **options: object) -> SessionStore:
        store: SessionStore
        if request.param == "memory":
            store = MemorySessionStore(timeout=timeout, cache=LocMemCache(f"contract-{uuid.uuid4().hex}", {}))
        else:
            store = RedisSessionStore(timeout=timeout, url=url, prefix=prefix, **options)  # type: ignore[arg-type]
        made.append(store)
        return store

    yield make
    for store in made:
        if isinstance(store, RedisSessionStore):
            await store.reset()
        await store.close()


@pytest.fixture
def store(make_store: MakeStore) -> SessionStore:
    return make_store()


async def new_session(store: SessionStore, **overrides: object) -> Session:
    options: dict[str, object] = {
        "protocol_version": "2025-11-25",
        "client_info": {"name": "contract", "version": "1.0"},
        "client_capabilities": {"sampling": {}},
        "principal": None,
        "client_addr": "127.0.0.1",
    }
    options.update(overrides)
    return await store.create(**options)  # type: ignore[arg-type]


class TestSessionStoreContract:
    async def test_create_stores_the_session_and_get_returns_it(self, store: SessionStore) -> None:
        created = await new_session(store, principal="alice")
        found = await store.get(created.id)
        assert found is not None
        assert found.id == created.id
        assert len(created.id) == 32
        assert found.protocol_version == "2025-11-25"
        assert found.client_info == {"name": "contract", "version": "1.0"}
        assert found.client_capabilities == {"sampling": {}}
        assert found.principal == "alice"
        assert found.client_addr == "127.0.0.1"
        assert found.created == pytest.approx(created.created)
        assert not found.initialized
        assert found.state == {}

    async def test_create_never_reuses_an_id(self, store: SessionStore) -> None:
        ids = {(await new_session(store)).id for _ in range(20)}
        assert len(ids) == 20

    async def test_get_with_touch_moves_activity_and_counts_requests(self, store: SessionStore) -> None:
        created = await new_session(store)
        await asyncio.sleep(0.01)
        first = await store.get(created.id)
        second = await store.get(created.id)
        assert first is not None and second is not None
        assert first.last_activity > created.last_activity
        # The exchange that created the record was its first request.
        assert (created.requests, first.requests, second.requests) == (1, 2, 3)

    async def test_stats_count_each_kind_of_live_record(self, store: SessionStore) -> None:
        session = await new_session(store)
        kinds = {}
        for kind in (figures.STATE_HANDLE, figures.STATE_HANDLE, figures.TASK):
            record = await store.create(
                protocol_version="2026-07-28", client_info={}, client_capabilities={}, kind=kind
            )
            kinds.setdefault(kind, []).append(record.id)
        stats = await store.stats()
        assert stats.active == 4
        assert stats.active_by_kind == {figures.SESSION: 1, figures.STATE_HANDLE: 2, figures.TASK: 1}
        await store.delete(kinds[figures.STATE_HANDLE][0])
        await store.delete(session.id)
        stats = await store.stats()
        assert stats.active_by_kind == {figures.SESSION: 0, figures.STATE_HANDLE: 1, figures.TASK: 1}

    async def test_get_without_touch_changes_nothing(self, store: SessionStore) -> None:
        created = await new_session(store)
        await asyncio.sleep(0.01)
        found = await store.get(created.id, touch=False)
        assert found is not None
        assert found.last_activity == pytest.approx(created.last_activity)
        assert found.requests == 1  # the creating exchange only

    async def test_an_unknown_id_creates_nothing(self, store: SessionStore) -> None:
        assert await store.get(UNKNOWN) is None
        assert await store.get(UNKNOWN, touch=False) is None
        assert await store.update(UNKNOWN, log_level="debug") is False
        assert await store.set_state(UNKNOWN, "last_echo", "hi") is False
        assert await store.push(UNKNOWN, "history", 1, cap=5) == 0
        await store.put_item(UNKNOWN, "tasks", "t1", {"status": "working"})
        assert await store.items(UNKNOWN, "history") == []
        assert await store.get_item(UNKNOWN, "tasks", "t1") is None
        assert await store.all_items(UNKNOWN, "tasks") == {}
        assert await store.delete_item(UNKNOWN, "tasks", "t1") is False
        assert await store.delete(UNKNOWN) is False
        assert await store.get(UNKNOWN) is None
        assert await store.list() == []
        assert await store.stats() == StoreStats(0, 0, 0, 0, active_by_kind=dict.fromkeys(figures.KINDS, 0))

    async def test_a_session_idle_past_the_timeout_is_refused_before_any_sweep(
        self, make_store: MakeStore
    ) -> None:
        store = make_store(timeout=0.2)
        created = await new_session(store)
        await store.push(created.id, "history", "kept?", cap=5)
        await asyncio.sleep(0.35)
        assert await store.get(created.id, touch=False) is None
        assert await store.get(created.id) is None
        assert await store.update(created.id, log_level="debug") is False
        assert await store.set_state(created.id, "k", 1) is False
        assert await store.push(created.id, "history", "late", cap=5) == 0
        assert await store.items(created.id, "history") == []
        assert await store.list() == []

    async def test_touching_keeps_a_session_alive(self, make_store: MakeStore) -> None:
        store = make_store(timeout=0.5)
        created = await new_session(store)
        for _ in range(5):
            await asyncio.sleep(0.15)
            assert await store.get(created.id) is not None
        await asyncio.sleep(0.7)
        assert await store.get(created.id) is None

    async def test_update_sets_top_level_fields_and_refuses_others(self, store: SessionStore) -> None:
        created = await new_session(store)
        assert await store.update(created.id, initialized=True, log_level="warning") is True
        found = await store.get(created.id)
        assert found is not None and found.initialized and found.log_level == "warning"
        with pytest.raises(ValueError, match="principal"):
            await store.update(created.id, principal="mallory")

    async def test_concurrent_writers_to_different_fields_all_survive(self, store: SessionStore) -> None:
        created = await new_session(store)
        writes = [store.set_state(created.id, f"key{n}", n) for n in range(50)]
        writes += [store.update(created.id, log_level="debug"), store.update(created.id, initialized=True)]
        assert all(await asyncio.gather(*writes))
        found = await store.get(created.id)
        assert found is not None
        assert found.state == {f"key{n}": n for n in range(50)}
        assert found.log_level == "debug" and found.initialized

    @pytest.mark.parametrize("cap", [1000, 100, 30])
    async def test_push_from_100_concurrent_tasks_loses_nothing(self, store: SessionStore, cap: int) -> None:
        created = await new_session(store)
        lengths = await asyncio.gather(
            *(store.push(created.id, "history", {"n": n}, cap=cap) for n in range(100))
        )
        items = await store.items(created.id, "history")
        numbers = [item["n"] for item in items]
        assert len(items) == min(100, cap)
        assert len(set(numbers)) == len(numbers)
        assert max(lengths) == min(100, cap)
        if cap >= 100:
            assert sorted(numbers) == list(range(100))

    async def test_push_keeps_the_newest_items_oldest_first(self, store: SessionStore) -> None:
        created = await new_session(store)
        for n in range(5):
            await store.push(created.id, "history", n, cap=3)
        assert await store.items(created.id, "history") == [2, 3, 4]
        assert await store.items(created.id, "other") == []

    async def test_item_namespaces_store_get_list_and_delete(self, store: SessionStore) -> None:
        created = await new_session(store)
        await store.put_item(created.id, "tasks", "t1", {"status": "working"})
        await store.put_item(created.id, "tasks", "t2", {"status": "done"})
        await store.put_item(created.id, "subscriptions", "file:///a", True)
        await store.put_item(created.id, "tasks", "t1", {"status": "cancelled"})
        assert await store.get_item(created.id, "tasks", "t1") == {"status": "cancelled"}
        assert await store.get_item(created.id, "tasks", "missing") is None
        assert await store.all_items(created.id, "tasks") == {
            "t1": {"status": "cancelled"},
            "t2": {"status": "done"},
        }
        assert await store.delete_item(created.id, "tasks", "t1") is True
        assert await store.delete_item(created.id, "tasks", "t1") is False
        assert await store.all_items(created.id, "tasks") == {"t2": {"status": "done"}}
        assert await store.all_items(created.id, "subscriptions") == {"file:///a": True}

    async def test_incr_from_100_concurrent_tasks_gives_each_number_once(self, store: SessionStore) -> None:
        created = await new_session(store)
        numbers = await asyncio.gather(*(store.incr(created.id, "faults", "g1") for _ in range(100)))
        assert sorted(numbers) == list(range(1, 101))
        assert await store.incr(created.id, "faults", "g2") == 1
        assert await store.get_item(created.id, "faults", "g1") == 100
        assert await store.incr(UNKNOWN, "faults", "g1") == 0
        await store.delete(created.id)
        assert await store.incr(created.id, "faults", "g1") == 0

    async def test_delete_removes_the_session_and_everything_under_it(self, store: SessionStore) -> None:
        created = await new_session(store)
        other = await new_session(store)
        await store.set_state(created.id, "last_echo", "hi")
        await store.push(created.id, "history", 1, cap=5)
        await store.put_item(created.id, "tasks", "t1", {})
        await store.push(other.id, "history", "other", cap=5)
        assert await store.delete(created.id) is True
        assert await store.delete(created.id) is False
        assert await store.get(created.id) is None
        assert await store.items(created.id, "history") == []
        assert await store.all_items(created.id, "tasks") == {}
        assert await store.items(other.id, "history") == ["other"]
        stats = await store.stats()
        assert (stats.active, stats.deleted_total) == (1, 1)

    async def test_update_soon_is_seen_by_a_later_get_and_refuses_unknown_fields(
        self, store: SessionStore
    ) -> None:
        created = await new_session(store)
        store.update_soon(created.id, initialized=True, log_level="debug")
        found = await store.get(created.id, touch=False)
        assert found is not None and found.initialized and found.log_level == "debug"
        await store.flush()
        found = await store.get(created.id)
        assert found is not None and found.initialized and found.log_level == "debug"
        with pytest.raises(ValueError):
            store.update_soon(created.id, principal="mallory")
        store.update_soon(UNKNOWN, initialized=True)
        await store.flush()
        assert await store.get(UNKNOWN) is None

    async def test_delete_if_removes_only_what_the_claim_names(self, store: SessionStore) -> None:
        created = await new_session(store, principal="alice")
        claim = Claim(principal="alice", stateless=False, modern_version="2026-07-28", refused_by="expired")
        wrong = [
            Claim(principal="mallory", stateless=False, modern_version="2026-07-28"),
            Claim(principal=None, stateless=False, modern_version="2026-07-28"),
            Claim(principal="alice", stateless=True, modern_version="2026-07-28"),
        ]
        for other in wrong:
            assert await store.delete_if(created.id, other) == GONE
        assert await store.get(created.id) is not None
        await store.set_state(created.id, "expired", True)
        assert await store.delete_if(created.id, claim) == REFUSED
        assert await store.get(created.id) is not None
        await store.set_state(created.id, "expired", False)
        assert await store.delete_if(created.id, claim) == DELETED
        assert await store.get(created.id) is None
        assert await store.delete_if(created.id, claim) == GONE
        assert (await store.stats()).deleted_total == 1
        # Nobody's session, and a stateless-era record, each by their own claim.
        anonymous = await new_session(store)
        modern = await new_session(store, protocol_version="2026-07-28")
        assert await store.delete_if(modern.id, Claim(None, False, "2026-07-28")) == GONE
        assert await store.delete_if(anonymous.id, Claim(None, False, "2026-07-28")) == DELETED
        assert await store.delete_if(modern.id, Claim(None, True, "2026-07-28")) == DELETED

    async def test_delete_if_treats_an_expired_session_as_unknown(self, make_store: MakeStore) -> None:
        store = make_store(timeout=0.2)
        created = await new_session(store)
        await asyncio.sleep(0.3)
        assert await store.delete_if(created.id, Claim(None, False, "2026-07-28")) == GONE

    async def test_a_log_keeps_the_newest_byte_strings_oldest_first(self, store: SessionStore) -> None:
        created = await new_session(store)
        other = await new_session(store)
        blobs = [bytes([n]) * n for n in range(1, 7)] + [b"\x00\xff" * 10_000]
        for blob in blobs:
            store.append_log(created.id, blob, cap=4)
        store.append_log(other.id, b"theirs", cap=4)
        # Read without a flush: a reader sees every append made before it read.
        assert await store.read_log(created.id) == blobs[-4:]
        assert await store.read_log(other.id) == [b"theirs"]
        await store.flush()
        assert await store.read_log(created.id) == blobs[-4:]

    async def test_a_log_of_a_gone_session_is_empty_and_not_written(self, make_store: MakeStore) -> None:
        store = make_store(timeout=0.2)
        store.append_log(UNKNOWN, b"x", cap=5)
        assert await store.read_log(UNKNOWN) == []
        created, deleted = await new_session(store), await new_session(store)
        store.append_log(deleted.id, b"before", cap=5)
        await store.delete(deleted.id)
        store.append_log(deleted.id, b"after", cap=5)
        assert await store.read_log(deleted.id) == []
        await asyncio.sleep(0.3)
        store.append_log(created.id, b"late", cap=5)
        assert await store.read_log(created.id) == []

    async def test_appends_to_many_sessions_in_one_turn_all_land(self, store: SessionStore) -> None:
        sessions = [await new_session(store) for _ in range(20)]
        for n in range(3):
            for session in sessions:
                store.append_log(session.id, f"{session.id}:{n}".encode(), cap=10)
        for session in sessions:
            assert await store.read_log(session.id) == [f"{session.id}:{n}".encode() for n in range(3)]

    async def test_a_record_keeps_every_field_including_defaults_and_empty_strings(
        self, store: SessionStore
    ) -> None:
        plain = await new_session(store, client_capabilities={})
        owned = await new_session(store, principal="alice", client_addr="10.0.0.9")
        await store.update(owned.id, log_level="", initialized=True)
        found = await store.get(plain.id, touch=False)
        assert found is not None
        assert (found.client_addr, found.principal, found.log_level, found.state) == (
            "127.0.0.1",
            None,
            None,
            {},
        )
        assert (found.client_capabilities, found.initialized, found.requests) == ({}, False, 1)
        found = await store.get(owned.id, touch=False)
        assert found is not None
        assert (found.client_addr, found.principal, found.log_level, found.initialized) == (
            "10.0.0.9",
            "alice",
            "",
            True,
        )

    async def test_list_is_most_recently_active_first(self, store: SessionStore) -> None:
        first = await new_session(store)
        await asyncio.sleep(0.01)
        second = await new_session(store)
        await asyncio.sleep(0.01)
        third = await new_session(store)
        await asyncio.sleep(0.01)
        await store.get(first.id)
        assert [session.id for session in await store.list()] == [first.id, third.id, second.id]
        assert [session.id for session in await store.list(limit=2)] == [first.id, third.id]

    async def test_stats_count_live_sessions_and_totals(self, make_store: MakeStore) -> None:
        store = make_store(timeout=0.2)
        await new_session(store)
        deleted = await new_session(store)
        await store.delete(deleted.id)
        await asyncio.sleep(0.3)
        await new_session(store)
        await store.sweep()
        by_kind = {figures.SESSION: 1, figures.STATE_HANDLE: 0, figures.TASK: 0}
        assert await store.stats() == StoreStats(1, 3, 1, 1, active_by_kind=by_kind)

    async def test_sweep_returns_each_expired_id_once(self, make_store: MakeStore) -> None:
        store = make_store(timeout=0.2)
        old = [await new_session(store) for _ in range(3)]
        await asyncio.sleep(0.3)
        fresh = await new_session(store)
        assert sorted(await store.sweep()) == sorted(session.id for session in old)
        assert await store.sweep() == []
        assert await store.get(fresh.id) is not None
        assert [session.id for session in await store.list()] == [fresh.id]

    async def test_sessions_are_counted_per_client_until_deleted_or_swept(
        self, make_store: MakeStore
    ) -> None:
        store = make_store(timeout=0.3)
        a1 = await new_session(store, client_addr="10.0.0.1")
        await new_session(store, client_addr="10.0.0.1")
        await new_session(store, client_addr="10.0.0.2", principal="alice")
        assert await store.count_for_client("10.0.0.1") == 2
        assert await store.count_for_client("alice") == 1
        assert await store.count_for_client("10.0.0.2") == 0
        await store.delete(a1.id)
        assert await store.count_for_client("10.0.0.1") == 1
        await asyncio.sleep(0.4)
        await store.sweep()
        assert await store.count_for_client("10.0.0.1") == 0
        assert await store.count_for_client("alice") == 0

    async def test_limits_refuse_records_past_them(self, store: SessionStore) -> None:
        limits = Limits(total=3, per_client=2)
        await new_session(store, client_addr="10.0.0.1", limits=limits)
        await new_session(store, client_addr="10.0.0.1", limits=limits)
        with pytest.raises(LimitReached) as refused:
            await new_session(store, client_addr="10.0.0.1", limits=limits)
        assert (refused.value.scope, refused.value.limit) == ("client", 2)
        await new_session(store, client_addr="10.0.0.2", limits=limits)
        with pytest.raises(LimitReached) as refused:
            await new_session(store, client_addr="10.0.0.3", limits=limits)
        assert (refused.value.scope, refused.value.limit) == ("total", 3)
        assert (await store.stats()).active == 3
        await new_session(store, client_addr="10.0.0.3")  # no limits given: none applied

    async def test_concurrent_creations_never_overshoot_a_limit(self, store: SessionStore) -> None:
        outcomes = await asyncio.gather(
            *(new_session(store, client_addr="10.0.0.9", limits=Limits(per_client=5)) for _ in range(40)),
            return_exceptions=True,
        )
        assert sum(isinstance(o, Session) for o in outcomes) == 5
        assert all(isinstance(o, Session | LimitReached) for o in outcomes)
        assert await store.count_for_client("10.0.0.9") == 5

    async def test_hundreds_of_concurrent_calls_all_succeed(self, store: SessionStore) -> None:
        # More calls in flight than a Redis client keeps connections: they wait, none fails.
        session = await new_session(store)
        found = await asyncio.gather(*(store.get(session.id) for _ in range(250)))
        assert all(item is not None and item.id == session.id for item in found)

    async def test_ping_answers(self, store: SessionStore) -> None:
        assert await store.ping() is True

    async def test_claim_once_is_true_exactly_once_under_concurrency(self, store: SessionStore) -> None:
        claims = await asyncio.gather(*(store.claim_once("nonce", "n1", 60) for _ in range(20)))
        assert claims.count(True) == 1
        assert await store.claim_once("nonce", "n2", 60) is True
        assert await store.claim_once("other", "n1", 60) is True  # namespaces are separate

    async def test_a_claim_lapses_after_its_ttl(self, store: SessionStore) -> None:
        assert await store.claim_once("nonce", "short", 0.2) is True
        assert await store.claim_once("nonce", "short", 0.2) is False
        for _ in range(50):  # bounded: the claim must lapse within a few seconds
            await asyncio.sleep(0.1)
            if await store.claim_once("nonce", "short", 0.2):
                break
        else:
            pytest.fail("the claim did not lapse after its ttl")


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def make_redis_store(redis_url: str) -> AsyncIterator[Callable[..., RedisSessionStore]]:
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    made: list[RedisSessionStore] = []

    def make(timeout: float = 60.0, **options: object) -> RedisSessionStore:
        options.setdefault("prefix", prefix)
        store = RedisSessionStore(timeout=timeout, url=redis_url, **options)  # type: ignore[arg-type]
        made.append(store)
        return store

    yield make
    for store in made:
        await store.reset()
        await store.close()


async def keys_of(raw: aioredis.Redis, store: RedisSessionStore) -> list[str]:
    return sorted([key async for key in raw.scan_iter(match=f"{store.prefix}:*")])


class TestRedisSessionStore:
    async def test_two_stores_sweeping_at_once_report_each_id_once(
        self, make_redis_store: Callable[..., RedisSessionStore], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Small batches make the two sweepers interleave.
        monkeypatch.setattr(redis_store, "SWEEP_BATCH", 7)
        first, second = make_redis_store(timeout=0.2), make_redis_store(timeout=0.2)
        ids = {(await new_session(first)).id for _ in range(60)}
        await asyncio.sleep(0.3)
        one, two = await asyncio.gather(first.sweep(), second.sweep())
        assert sorted(one + two) == sorted(ids)
        assert (await first.stats()).expired_total == 60

    async def test_an_unknown_id_leaves_no_key_behind(
        self, make_redis_store: Callable[..., RedisSessionStore], raw: aioredis.Redis
    ) -> None:
        store = make_redis_store()
        await store.get(UNKNOWN)
        await store.update(UNKNOWN, log_level="debug")
        await store.set_state(UNKNOWN, "k", 1)
        await store.push(UNKNOWN, "history", 1, cap=5)
        await store.put_item(UNKNOWN, "tasks", "t1", {})
        assert await keys_of(raw, store) == []

    async def test_every_session_key_expires_by_itself(
        self, make_redis_store: Callable[..., RedisSessionStore], raw: aioredis.Redis
    ) -> None:
        store = make_redis_store(timeout=10.0, expiry_margin=5.0)
        created = await new_session(store)
        await store.push(created.id, "history", 1, cap=5)
        await store.put_item(created.id, "tasks", "t1", {})
        await store.get(created.id)
        session_keys = [key for key in await keys_of(raw, store) if key.endswith(created.id)]
        assert len(session_keys) == 4
        for key in session_keys:
            assert 0 < await raw.pttl(key) <= 15_000, key

    async def test_a_session_redis_expired_is_gone_and_still_swept_once(
        self, make_redis_store: Callable[..., RedisSessionStore], raw: aioredis.Redis
    ) -> None:
        store = make_redis_store(timeout=0.1, expiry_margin=0.05)
        created = await new_session(store)
        await store.push(created.id, "history", 1, cap=5)
        await asyncio.sleep(0.4)
        assert [key for key in await keys_of(raw, store) if key.endswith(created.id)] == []
        assert await store.get(created.id) is None
        assert await store.sweep() == [created.id]
        assert await store.sweep() == []

    async def test_delete_leaves_no_key_behind(
        self, make_redis_store: Callable[..., RedisSessionStore], raw: aioredis.Redis
    ) -> None:
        store = make_redis_store()
        created = await new_session(store)
        await store.set_state(created.id, "last_echo", "hi")
        await store.push(created.id, "history", 1, cap=5)
        await store.put_item(created.id, "tasks", "t1", {})
        await store.delete(created.id)
        assert [key for key in await keys_of(raw, store) if key.endswith(created.id)] == []

    async def test_a_log_is_one_key_that_expires_and_goes_with_the_session(
        self, make_redis_store: Callable[..., RedisSessionStore], raw: aioredis.Redis
    ) -> None:
        store = make_redis_store(timeout=10.0, expiry_margin=5.0)
        created = await new_session(store)
        store.append_log(created.id, b"entry", cap=5)
        await store.flush()
        await store.get(created.id)
        assert await keys_of(raw, store) == sorted(
            [f"{store.prefix}:{kind}:{created.id}" for kind in ("s", "t")]
            + [f"{store.prefix}:sessions", f"{store.prefix}:totals", f"{store.prefix}:c:127.0.0.1"]
        )
        assert 0 < await raw.pttl(f"{store.prefix}:t:{created.id}") <= 15_000
        await store.delete(created.id)
        assert [key for key in await keys_of(raw, store) if key.endswith(created.id)] == []

    async def test_a_log_kept_as_a_list_before_is_read_first(
        self, make_redis_store: Callable[..., RedisSessionStore]
    ) -> None:
        # What a process of the previous release left: the log as a list of JSON entries.
        store = make_redis_store()
        created = await new_session(store)
        await store.push(created.id, redis_store.LEGACY_LOG, {"old": 1}, cap=5)
        store.append_log(created.id, b"new", cap=5)
        assert await store.read_log(created.id) == [b'{"old":1}', b"new"]

    async def test_a_log_written_while_redis_is_down_is_dropped_not_raised(
        self,
        own_redis: RedisServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        store = RedisSessionStore(timeout=60, url=own_redis.url)
        try:
            created = await new_session(store)
            own_redis.stop()
            store.append_log(created.id, b"lost", cap=5)
            await store.flush()
            assert "traffic not written: " in caplog.text and "Traceback" not in caplog.text
            own_redis.start()
            kept = await new_session(store)
            store.append_log(kept.id, b"kept", cap=5)
            assert await store.read_log(kept.id) == [b"kept"]
        finally:
            await store.close()

    async def test_a_record_without_a_principal_stores_the_address_once(
        self, make_redis_store: Callable[..., RedisSessionStore], raw: aioredis.Redis
    ) -> None:
        store = make_redis_store()
        created = await new_session(store, client_addr="10.0.0.7")
        fields = await raw.hgetall(f"{store.prefix}:s:{created.id}")
        assert "client_addr" not in fields and fields["owner"] == '"10.0.0.7"'
        found = await store.get(created.id)
        assert found is not None and found.client_addr == "10.0.0.7"

    async def test_reset_deletes_only_its_own_prefix(
        self, make_redis_store: Callable[..., RedisSessionStore]
    ) -> None:
        mine, theirs = make_redis_store(), make_redis_store(prefix=f"other-{uuid.uuid4().hex[:8]}")
        await new_session(mine)
        kept = await new_session(theirs)
        await mine.reset()
        assert (await mine.stats()).created_total == 0
        assert await theirs.get(kept.id) is not None

    async def test_a_closed_store_can_be_used_again(
        self, make_redis_store: Callable[..., RedisSessionStore]
    ) -> None:
        store = make_redis_store()
        created = await new_session(store)
        await store.close()
        assert await store.get(created.id) is not None

    async def test_an_unreachable_redis_is_unavailable_not_not_found(self) -> None:
        store = RedisSessionStore(timeout=60, url=f"redis://127.0.0.1:{free_port()}/0")
        try:
            assert await store.ping() is False
            with pytest.raises(StoreUnavailable):
                await store.get(UNKNOWN)
            with pytest.raises(StoreUnavailable):
                await new_session(store)
        finally:
            await store.close()

    async def test_a_redis_restart_costs_requests_during_the_outage_only(
        self,
        own_redis: RedisServer,
    ) -> None:
        store = RedisSessionStore(timeout=60, url=own_redis.url)
        try:
            created = await new_session(store)
            own_redis.restart()
            # The pooled connection died with the server: it is replaced, not reported. The
            # server kept nothing (no persistence), so the session is gone, not an error.
            assert await store.get(created.id) is None
            own_redis.stop()
            assert await store.ping() is False
            with pytest.raises(StoreUnavailable):
                await new_session(store)
            own_redis.start()
            assert await store.get((await new_session(store)).id) is not None
        finally:
            await store.close()


class TestSharedSecret:
    async def test_concurrent_callers_agree_on_32_bytes_and_names_differ(self, store: SessionStore) -> None:
        seen = await asyncio.gather(*(store.shared_secret("k") for _ in range(10)))
        assert len(set(seen)) == 1 and len(seen[0]) == 32
        assert await store.shared_secret("other") != seen[0]

    async def test_redis_stores_share_it_like_processes_do(self, make_store: MakeStore) -> None:
        first, second = make_store(), make_store()
        if not isinstance(first, RedisSessionStore):
            pytest.skip("one memory store is one process")
        assert await first.shared_secret("k") == await second.shared_secret("k")
