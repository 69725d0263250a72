"""The embedded store: Django's local-memory cache, called directly.

LocMemCache methods are plain dict operations under a lock that is never contended (one
event loop thread), so they are called without ``sync_to_async``: no thread hop. Each
read-modify-write below runs with no ``await`` inside it, which makes it atomic with respect
to every other request in the process. One process only: with several workers each would
see its own sessions, so use the Redis store there.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson
from django.core.cache.backends.locmem import LocMemCache

from mcp.figures import KINDS, SESSION
from mcp.store.base import LimitReached, Limits, Session, SessionStore, StoreStats, check_updatable


def _cap(items: list[bytes], cap: int) -> None:
    """Drop the oldest items past ``cap`` (at least one is kept)."""
    if len(items) > cap:
        del items[: len(items) - max(1, cap)]


class SessionCache(LocMemCache):
    """The cache backend of the session store (``CACHES[MCP_CACHE_ALIAS]`` in memory mode):
    LocMemCache without the memcached portability check of every key, which walks each
    character in Python on every get and set. The store builds its keys from session ids
    the transport has already checked (1-128 visible ASCII characters) and a few fixed
    names, and they never leave this process.
    """

    def validate_key(self, key: str) -> None:
        return None


class MemorySessionStore(SessionStore):
    backend = "memory"

    def __init__(self, *, timeout: float, cache: LocMemCache) -> None:
        super().__init__(timeout=timeout)
        self._cache = cache
        # session id -> [last activity, request count]; the index the cache API cannot give.
        self._activity: dict[str, list[float]] = {}
        # session id -> item namespace keys stored under it (only sessions that have any).
        self._extra_keys: dict[str, set[str]] = {}
        # Capped lists (``push``), name -> session id -> items: each item kept as its JSON, so
        # a push costs one append, not a pickle round trip of the whole list through the
        # cache, and a reader never shares an object with the store. Plain lists capped by
        # hand: a deque allocates a 64-slot block even for two items.
        self._lists: dict[str, dict[str, list[bytes]]] = {}
        # session id -> its log (``append_log``): the stored byte strings, oldest first.
        self._logs: dict[str, list[bytes]] = {}
        # client key -> ids of its live sessions (per-client limits).
        self._by_client: dict[str, set[str]] = {}
        self._client_of: dict[str, str] = {}
        self._created_total = 0
        self._expired_total = 0
        self._deleted_total = 0
        # kind -> ids of records of that kind (not sessions); pruned when counted.
        self._kinds: dict[str, set[str]] = {}

    @staticmethod
    def _record_key(session_id: str) -> str:
        return f"s:{session_id}"

    def _extra_key(self, session_id: str, kind: str, name: str) -> str:
        key = f"{kind}:{session_id}:{name}"
        self._extra_keys.setdefault(session_id, set()).add(key)
        return key

    def _drop(self, session_id: str) -> None:
        self._activity.pop(session_id, None)
        client = self._client_of.pop(session_id, None)
        if client is not None:
            owned = self._by_client.get(client)
            if owned is not None:
                owned.discard(session_id)
                if not owned:
                    del self._by_client[client]
        self._cache.delete(self._record_key(session_id))
        for key in self._extra_keys.pop(session_id, ()):
            self._cache.delete(key)
        for lists in self._lists.values():
            lists.pop(session_id, None)
        self._logs.pop(session_id, None)

    def _live(self, session_id: str, now: float) -> list[float] | None:
        entry = self._activity.get(session_id)
        if entry is None:
            return None
        if self.expired(entry[0], now):
            self._drop(session_id)
            self._expired_total += 1
            return None
        return entry

    async def _add(self, session: Session, limits: Limits, kind: str) -> bool:
        if session.id in self._activity:
            return False
        if limits.total and len(self._activity) >= limits.total:
            raise LimitReached("total", limits.total)
        if limits.per_client and len(self._by_client.get(session.client_key, ())) >= limits.per_client:
            raise LimitReached("client", limits.per_client)
        self._cache.set(self._record_key(session.id), session.to_record(), None)
        self._activity[session.id] = [session.last_activity, session.requests]
        self._client_of[session.id] = session.client_key
        self._by_client.setdefault(session.client_key, set()).add(session.id)
        self._created_total += 1
        if kind != SESSION:
            self._kinds.setdefault(kind, set()).add(session.id)
        return True

    async def get(self, session_id: str, *, touch: bool = True) -> Session | None:
        now = time.time()
        entry = self._live(session_id, now)
        if entry is None:
            return None
        record = self._cache.get(self._record_key(session_id))
        if record is None:
            self._drop(session_id)
            return None
        if touch:
            entry[0] = now
            entry[1] += 1
        session = Session.from_record(session_id, record, entry[0])
        session.requests = int(entry[1])
        return session

    def _modify(self, session_id: str, change: Any) -> bool:
        if self._live(session_id, time.time()) is None:
            return False
        key = self._record_key(session_id)
        record = self._cache.get(key)
        if record is None:
            return False
        change(record)
        self._cache.set(key, record, None)
        return True

    async def update(self, session_id: str, **fields: Any) -> bool:
        check_updatable(fields)
        return self._modify(session_id, lambda record: record.update(fields))

    def update_soon(self, session_id: str, **fields: Any) -> None:
        check_updatable(fields)
        self._modify(session_id, lambda record: record.update(fields))

    async def set_state(self, session_id: str, key: str, value: Any) -> bool:
        return self._modify(session_id, lambda record: record.setdefault("state", {}).__setitem__(key, value))

    async def push(self, session_id: str, name: str, item: Any, *, cap: int) -> int:
        if self._live(session_id, time.time()) is None:
            return 0
        items = self._lists.setdefault(name, {}).setdefault(session_id, [])
        # A copy: orjson's bytes keep their whole growth buffer (4 KiB and more) allocated.
        items.append(bytes(memoryview(orjson.dumps(item))))
        _cap(items, cap)
        return len(items)

    async def items(self, session_id: str, name: str) -> list[Any]:
        if self._live(session_id, time.time()) is None:
            return []
        return [orjson.loads(item) for item in self._lists.get(name, {}).get(session_id, ())]

    def append_log(self, session_id: str, blob: bytes, *, cap: int) -> None:
        if self._live(session_id, time.time()) is None:
            return
        log = self._logs.get(session_id)
        if log is None:
            log = self._logs[session_id] = []
        log.append(blob)
        _cap(log, cap)

    async def read_log(self, session_id: str) -> list[bytes]:
        if self._live(session_id, time.time()) is None:
            return []
        return list(self._logs.get(session_id, ()))

    async def put_item(self, session_id: str, namespace: str, key: str, value: Any) -> None:
        if self._live(session_id, time.time()) is None:
            return
        cache_key = self._extra_key(session_id, "i", namespace)
        records = self._cache.get(cache_key) or {}
        records[key] = value
        self._cache.set(cache_key, records, None)

    async def incr(self, session_id: str, namespace: str, key: str) -> int:
        if self._live(session_id, time.time()) is None:
            return 0
        cache_key = self._extra_key(session_id, "i", namespace)
        records = self._cache.get(cache_key) or {}
        records[key] = int(records.get(key) or 0) + 1
        self._cache.set(cache_key, records, None)
        return records[key]

    async def get_item(self, session_id: str, namespace: str, key: str) -> Any | None:
        return (await self.all_items(session_id, namespace)).get(key)

    async def all_items(self, session_id: str, namespace: str) -> dict[str, Any]:
        if self._live(session_id, time.time()) is None:
            return {}
        return self._cache.get(f"i:{session_id}:{namespace}") or {}

    async def delete_item(self, session_id: str, namespace: str, key: str) -> bool:
        cache_key = f"i:{session_id}:{namespace}"
        records = self._cache.get(cache_key) or {}
        if records.pop(key, None) is None:
            return False
        self._cache.set(cache_key, records, None)
        return True

    async def delete(self, session_id: str) -> bool:
        if session_id not in self._activity:
            return False
        self._drop(session_id)
        self._deleted_total += 1
        return True

    async def list(self, *, limit: int = 100) -> list[Session]:
        now = time.time()
        newest = sorted(self._activity.items(), key=lambda item: item[1][0], reverse=True)
        sessions: list[Session] = []
        for session_id, (last_activity, requests) in newest:
            if len(sessions) >= limit:
                break
            if self.expired(last_activity, now):
                continue
            record = self._cache.get(self._record_key(session_id))
            if record is not None:
                session = Session.from_record(session_id, record, last_activity)
                session.requests = int(requests)
                sessions.append(session)
        return sessions

    async def stats(self) -> StoreStats:
        now = time.time()
        by_kind = dict.fromkeys(KINDS, 0)
        for kind, ids in self._kinds.items():
            ids.intersection_update(self._activity)
            by_kind[kind] = sum(1 for sid in ids if not self.expired(self._activity[sid][0], now))
        active = sum(1 for last, _ in self._activity.values() if not self.expired(last, now))
        by_kind[SESSION] = active - sum(by_kind.values())
        return StoreStats(
            active=active,
            created_total=self._created_total,
            expired_total=self._expired_total,
            deleted_total=self._deleted_total,
            active_by_kind=by_kind,
        )

    async def count_for_client(self, client: str) -> int:
        return len(self._by_client.get(client, ()))

    async def sweep(self) -> list[str]:
        now = time.time()
        gone = [sid for sid, (last, _) in self._activity.items() if self.expired(last, now)]
        for session_id in gone:
            self._drop(session_id)
        self._expired_total += len(gone)
        return gone

    async def claim_once(self, namespace: str, key: str, ttl: float) -> bool:
        # LocMemCache.add is atomic (its lock) and honours the timeout.
        return bool(self._cache.add(f"once:{namespace}:{key}", True, ttl))

    async def shared_secret(self, name: str) -> bytes:
        key = f"secret:{name}"
        self._cache.add(key, secrets.token_hex(32), None)
        return bytes.fromhex(self._cache.get(key))

    async def ping(self) -> bool:
        """A real round trip through the cache: write a token and read it back."""
        token = time.perf_counter_ns()
        self._cache.set("ping", token, 60)
        return self._cache.get("ping") == token

    def reset(self) -> None:
        """Forget everything (tests)."""
        for session_id in list(self._activity):
            self._drop(session_id)
        self._cache.clear()
        self._lists.clear()
        self._logs.clear()
        self._created_total = self._expired_total = self._deleted_total = 0
        self._kinds.clear()
