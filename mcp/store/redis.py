"""The shared store: sessions in Redis, so any worker on any machine serves any session.

Key layout (``p`` is the prefix; the session id always comes last, so no id a client sends
can name another session's key):

- ``p:s:<id>``          HASH: one field per record field (JSON), ``st:<key>`` per app-state
                         key (JSON), ``last_activity`` (epoch seconds) and ``requests``.
- ``p:l:<name>:<id>``   LIST: a capped list (oldest first), one JSON item per entry.
- ``p:t:<id>``          STRING: the session's log (``append_log``), its byte strings each
                         framed by its length (LEB128 varint), oldest first. One string,
                         not a list: a list key costs ~100 bytes more per session, which is
                         most of an idle session's budget; an append rewrites the string in
                         Lua (a few KB: cheap next to the round trip it shares).
- ``p:i:<ns>:<id>``     HASH: an item namespace, key -> JSON.
- ``p:x:<id>``          SET: the names of the session's list and namespace keys (the log
                         key is known from the id, so an idle session has no such set).
- ``p:sessions``        ZSET: session id scored by last activity (list, count, sweep).
- ``p:c:<client>``      ZSET: the sessions of one client (principal, else address), for the
                         per-client limit; the record's ``owner`` field names it (and
                         stands for ``client_addr`` too when there is no principal: the
                         record leaves that field out then).
- ``p:totals``          HASH: created / expired / deleted counters, cluster-wide.

Guarantees, beyond those of ``SessionStore``:

- Nothing reads a whole session, changes it and writes it back: each write is a Lua script
  that checks the session is live and changes only its own field, list or namespace.
- Every key of a session expires ``timeout + expiry_margin`` seconds after its last touch,
  so Redis frees an abandoned session by itself even if no sweeper ever runs.
- ``append_log`` and ``update_soon`` are write-behind (``mcp.store.writebehind``): what is
  queued goes as one script call ahead of the store's next command (same round trip), or
  ``write_delay`` seconds after it was queued; a log or field for a session that is gone is
  a no-op. Ahead means ahead on the one multiplexed connection, which Redis serves in
  order: a ``get`` in the same process sees the fields queued before it.
- Round trips: ``create`` one; ``get`` one; ``delete_if`` one, the bus's drop included
  (``then``); each synchronous write one; write-behind writes none of their own while
  commands flow (tests/store/test_round_trips.py counts them at the multiplexed connection).
- ``get`` refuses a session idle past the timeout but leaves its removal to ``sweep``, so
  the sweeper reports every expired session (and its streams get dropped) exactly once,
  even with several sweepers running at once.
- Idle time is measured with the callers' clocks (``time.time()``), which are assumed to be
  NTP-synchronised across machines; ``last_activity`` never moves backwards.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from mcp.figures import KINDS, SESSION
from mcp.redis_client import (
    LuaStep,
    Script,
    close_redis,
    delete_matching,
    get_redis,
    glob_escape,
    multiplexer,
    unavailable_on_error,
)
from mcp.store.base import (
    COMMITTED,
    DELETED,
    GONE,
    REFUSED,
    STALE,
    UNKNOWN,
    Claim,
    LimitReached,
    Limits,
    Session,
    SessionStore,
    StoreStats,
    check_updatable,
)
from mcp.store.writebehind import WriteBehind

STATE = "st:"
# Seconds a write-behind write waits for a command to ride with: long enough for a client's
# next request to carry what its last one queued (the traffic entry, the initialized flag),
# short enough for other processes to see it soon.
WRITE_DELAY = 0.005
# Records kept by ``cached``: their fields as read, ~1.3 KB each, so at most ~5 MB per process
# (S4 measures it: the RSS of a Redis-mode process grows with the sessions it served until then).
MAX_CACHED = 4096
SWEEP_BATCH = 200
# The list name under which logs were kept before they were one string: read, never written.
LEGACY_LOG = "traffic"

# True when the session hash exists and was active within the timeout (ARGV[1] now,
# ARGV[2] timeout, by convention in every script that uses it).
_LIVE = """
local function live(key)
  local last = redis.call('HGET', key, 'last_activity')
  return last ~= false and tonumber(ARGV[1]) - tonumber(last) <= tonumber(ARGV[2])
end
-- Registers a list or namespace key under the session and gives it the record's deadline.
local function follow(key, extra, index)
  redis.call('SADD', index, extra)
  local ttl = redis.call('PTTL', key)
  if ttl > 0 then
    redis.call('PEXPIRE', extra, ttl)
    redis.call('PEXPIRE', index, ttl)
  end
end
"""

# Removes a session's keys; true if it was still indexed (the caller "owns" its removal).
_DROP = """
local function drop(prefix, sid)
  local index = prefix .. ':x:' .. sid
  local owner = redis.call('HGET', prefix .. ':s:' .. sid, 'owner')
  if owner then redis.call('ZREM', prefix .. ':c:' .. cjson.decode(owner), sid) end
  local extra = redis.call('SMEMBERS', index)
  if #extra > 0 then redis.call('DEL', unpack(extra)) end
  local existed = redis.call('DEL', prefix .. ':s:' .. sid, index, prefix .. ':t:' .. sid)
  local indexed = redis.call('ZREM', prefix .. ':sessions', sid)
  return indexed == 1 or existed > 0
end
"""

# KEYS: the secret. ARGV: a new one. Returns the stored secret (the new one if none was).
SECRET = Script("""
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
""")
SECRET_KEPT = 60.0

# KEYS: record, sessions, totals, client's sessions[, its kind's index when not a session].
# ARGV: id, score, ttl ms, limit in all,
# limit per client (0: none), live cutoff, field, value, ... Returns 1, 0 (id taken), -1/-2 (limit).
ADD = Script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local total, per_client = tonumber(ARGV[4]), tonumber(ARGV[5])
if total > 0 and redis.call('ZCOUNT', KEYS[2], ARGV[6], '+inf') >= total then return -1 end
if per_client > 0 and redis.call('ZCARD', KEYS[4]) >= per_client then return -2 end
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'created', 1)
if KEYS[5] then redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1]) end
return 1
""")

# The touch of a live session (record, key index, sessions, log; now, timeout, id, ttl ms).
_TOUCH = """
local function touch()
  local last = tonumber(redis.call('HGET', KEYS[1], 'last_activity'))
  if tonumber(ARGV[1]) > last then
    redis.call('HSET', KEYS[1], 'last_activity', ARGV[1])
    redis.call('ZADD', KEYS[3], ARGV[1], ARGV[3])
  end
  redis.call('HINCRBY', KEYS[1], 'requests', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('PEXPIRE', key, ARGV[4]) end
end
"""

# KEYS: record, key index, sessions, log. ARGV: now, timeout, id, ttl ms.
TOUCH = Script(
    _LIVE
    + _TOUCH
    + """
if not live(KEYS[1]) then return false end
touch()
return redis.call('HGETALL', KEYS[1])
"""
)

# KEYS: as TOUCH. ARGV: as TOUCH, then the version the caller read, field, value, ...
# Returns 1 (touched and written), 0 (not live) or, when the version moved, the record's fields
# as they are now (nothing done). Its writes leave the version as it is (see SessionStore.commit).
COMMIT = Script(
    _LIVE
    + _TOUCH
    + """
if not live(KEYS[1]) then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'v') or '0') ~= tonumber(ARGV[5]) then
  return redis.call('HGETALL', KEYS[1])
end
touch()
if #ARGV > 5 then redis.call('HSET', KEYS[1], unpack(ARGV, 6)) end
return 1
"""
)

# KEYS: record. ARGV: now, timeout, field, value, ... Returns the record's new version, 0 if gone.
SET_FIELDS = Script(
    _LIVE
    + """
if not live(KEYS[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return redis.call('HINCRBY', KEYS[1], 'v', 1)
"""
)

# KEYS: record, key index, list. ARGV: now, timeout, item, cap.
PUSH = Script(
    _LIVE
    + """
if not live(KEYS[1]) then return 0 end
local cap = tonumber(ARGV[4])
local length = redis.call('RPUSH', KEYS[3], ARGV[3])
if length > cap then
  redis.call('LTRIM', KEYS[3], -cap, -1)
  length = cap
end
follow(KEYS[1], KEYS[3], KEYS[2])
return length
"""
)

# KEYS: record, log, for each session. ARGV: now, timeout, then for each session: the log's
# cap, the frames to append ('' for none), the number of fields to set, field, value, ...
# Returns the number of live sessions written to.
WRITES = Script(
    _LIVE
    + """
local written, at = 0, 3
for i = 1, #KEYS, 2 do
  local record, log = KEYS[i], KEYS[i + 1]
  local cap, frames, count = tonumber(ARGV[at]), ARGV[at + 1], tonumber(ARGV[at + 2])
  local first = at + 3
  at = first + 2 * count
  if live(record) then
    if count > 0 then
      redis.call('HSET', record, unpack(ARGV, first, at - 1))
      redis.call('HINCRBY', record, 'v', 1)
    end
    if frames ~= '' then
      local data = (redis.call('GET', log) or '') .. frames
      local starts, pos, size = {}, 1, #data
      while pos <= size do
        starts[#starts + 1] = pos
        local length, scale, byte = 0, 1, 128
        while byte >= 128 do
          byte = string.byte(data, pos)
          pos = pos + 1
          length = length + (byte % 128) * scale
          scale = scale * 128
        end
        pos = pos + length
      end
      if #starts > cap then data = string.sub(data, starts[#starts - cap + 1]) end
      local ttl = redis.call('PTTL', record)
      if ttl > 0 then redis.call('SET', log, data, 'PX', ttl) else redis.call('SET', log, data) end
    end
    written = written + 1
  end
end
return written
"""
)

# KEYS: record, log, the list the log was before it was one string. ARGV: now, timeout.
# Returns false for a gone session, else the old list's items followed by the log.
READ_LOG = Script(
    _LIVE
    + """
if not live(KEYS[1]) then return false end
local items = redis.call('LRANGE', KEYS[3], 0, -1)
items[#items + 1] = redis.call('GET', KEYS[2]) or ''
return items
"""
)

# KEYS: record, key index, namespace hash. ARGV: now, timeout, key, value.
PUT_ITEM = Script(
    _LIVE
    + """
if not live(KEYS[1]) then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
follow(KEYS[1], KEYS[3], KEYS[2])
return 1
"""
)

# KEYS: record, key index, namespace hash. ARGV: now, timeout, key.
INCR_ITEM = Script(
    _LIVE
    + """
if not live(KEYS[1]) then return 0 end
local value = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
follow(KEYS[1], KEYS[3], KEYS[2])
return value
"""
)

# KEYS: totals. ARGV: prefix, id.
DELETE = Script(
    _DROP
    + """
if drop(ARGV[1], ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], 'deleted', 1)
  return 1
end
return 0
"""
)

# KEYS: record, totals, then the step's keys. ARGV: now, timeout, prefix, id, principal
# ('' for none, else its JSON), era ('=' or '~' and the JSON of the stateless era's version:
# the record must be at it, or not), the state field that refuses ('' for none), then the
# step's args. Returns 1 (deleted, and the step ran), 0 (unknown) or 2 (refused).
_DELETE_IF = """
if not live(KEYS[1]) then return 0 end
if (redis.call('HGET', KEYS[1], 'principal') or '') ~= ARGV[5] then return 0 end
local at_version = redis.call('HGET', KEYS[1], 'protocol_version') == string.sub(ARGV[6], 2)
if at_version ~= (string.sub(ARGV[6], 1, 1) == '=') then return 0 end
if ARGV[7] ~= '' then
  local flag = redis.call('HGET', KEYS[1], ARGV[7])
  if flag and flag ~= 'false' and flag ~= 'null' then return 2 end
end
drop(ARGV[3], ARGV[4])
redis.call('HINCRBY', KEYS[2], 'deleted', 1)
STEP({unpack(KEYS, 3)}, {unpack(ARGV, 8)})
return 1
"""
_NO_STEP = "local function no_step(K, A) end\n"
_DELETE_IF_SCRIPTS: dict[tuple[str, str], Script] = {}


def delete_if_script(step: LuaStep | None) -> Script:
    """``_DELETE_IF`` with ``step``'s function (one Script per distinct step source)."""
    name, source = (step.name, step.source) if step is not None else ("no_step", _NO_STEP)
    script = _DELETE_IF_SCRIPTS.get((name, source))
    if script is None:
        body = _DELETE_IF.replace("STEP(", f"{name}(")
        script = _DELETE_IF_SCRIPTS[(name, source)] = Script(_LIVE + _DROP + source + body)
    return script


# KEYS: sessions, totals. ARGV: prefix, cutoff (exclusive), batch. Returns the ids it removed.
SWEEP = Script(
    _DROP
    + """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, sid in ipairs(gone) do drop(ARGV[1], sid) end
if #gone > 0 then redis.call('HINCRBY', KEYS[2], 'expired', #gone) end
return gone
"""
)


def _version(fields: dict[str, Any]) -> int:
    """A record's version as its fields hold it (absent until its first field write)."""
    return int(fields.get("v") or 0)


def _encode(value: Any) -> str:
    return orjson.dumps(value).decode()


def frame(blobs: list[bytes]) -> bytes:
    """``blobs`` as stored in a log: each prefixed by its length as a LEB128 varint."""
    out = bytearray()
    for blob in blobs:
        length = len(blob)
        while length >= 0x80:
            out.append(length & 0x7F | 0x80)
            length >>= 7
        out.append(length)
        out += blob
    return bytes(out)


def unframe(data: bytes) -> list[bytes]:
    """The byte strings of a log (a truncated last frame is left out)."""
    blobs, pos, size = [], 0, len(data)
    while pos < size:
        length = shift = 0
        while pos < size:
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        if pos + length > size:
            break
        blobs.append(data[pos : pos + length])
        pos += length
    return blobs


class RedisSessionStore(SessionStore):
    backend = "redis"

    def __init__(
        self,
        *,
        timeout: float,
        url: str,
        prefix: str = "mcp",
        expiry_margin: float = 120.0,
        write_delay: float | None = None,
    ) -> None:
        super().__init__(timeout=timeout)
        self.url = url
        self.prefix = prefix
        self.ttl_ms = math.ceil((timeout + expiry_margin) * 1000)
        self._sessions = f"{prefix}:sessions"
        self._totals = f"{prefix}:totals"
        # kind -> a sorted set of the ids of that kind's records (not sessions); ``stats`` keeps
        # only the live ones (intersected with the activity index, whose scores it takes).
        self._kind_keys = {kind: f"{prefix}:kind:{kind}" for kind in KINDS if kind != SESSION}
        # session id -> its record's fields as this process last read them (``cached``),
        # the newest MAX_CACHED only.
        self._recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # name -> (shared secret, monotonic time until which it is used without a read)
        self._secrets: dict[str, tuple[bytes, float]] = {}
        # (session id, log blob or None, log cap, field pairs to set)
        self._writes: WriteBehind[tuple[str, bytes | None, int, list[str]]] = WriteBehind(
            self._send_writes, what="traffic", delay=WRITE_DELAY if write_delay is None else write_delay
        )

    @property
    def redis(self) -> aioredis.Redis:
        # The shared client, so a closed store reconnects (on whatever loop runs then).
        return get_redis(self.url)

    @property
    def write_delay(self) -> float:  # type: ignore[override]
        return self._writes.delay

    @write_delay.setter
    def write_delay(self, seconds: float) -> None:
        self._writes.delay = seconds

    async def _run(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """``script`` on the multiplexed connection, with the queued write-behind batch ahead."""
        self._writes.send()
        return await script(self.redis, keys, args)

    def _record(self, session_id: str) -> str:
        return f"{self.prefix}:s:{session_id}"

    def _client_sessions(self, client: str) -> str:
        return f"{self.prefix}:c:{client}"

    def _index(self, session_id: str) -> str:
        return f"{self.prefix}:x:{session_id}"

    def _list(self, session_id: str, name: str) -> str:
        return f"{self.prefix}:l:{name}:{session_id}"

    def _log(self, session_id: str) -> str:
        return f"{self.prefix}:t:{session_id}"

    def _namespace(self, session_id: str, namespace: str) -> str:
        return f"{self.prefix}:i:{namespace}:{session_id}"

    def _live(self, fields: dict[str, str] | None, now: float) -> bool:
        last = (fields or {}).get("last_activity")
        return last is not None and not self.expired(float(last), now)

    def _session(self, session_id: str, fields: dict[str, str]) -> Session:
        record: dict[str, Any] = {"state": {}}
        for name, raw in fields.items():
            if name.startswith(STATE):
                record["state"][name[len(STATE) :]] = orjson.loads(raw)
            else:
                record[name] = orjson.loads(raw)
        if "client_addr" not in record and record.get("principal") is None:
            record["client_addr"] = record.get("owner") or ""
        return Session.from_record(session_id, record, float(record["last_activity"]))

    async def _add(self, session: Session, limits: Limits, kind: str) -> bool:
        pairs: list[str] = [
            "last_activity",
            repr(session.last_activity),
            "owner",
            _encode(session.client_key),
        ]
        for name, value in session.to_record().items():
            if name == "client_addr" and session.principal is None:
                continue  # the owner
            if name == "state":
                for key, item in value.items():
                    pairs += [STATE + key, _encode(item)]
            else:
                pairs += [name, _encode(value)]
        with unavailable_on_error("create"):
            added = await self._run(
                ADD,
                [
                    self._record(session.id),
                    self._sessions,
                    self._totals,
                    self._client_sessions(session.client_key),
                    *([] if kind == SESSION else [self._kind_keys[kind]]),
                ],
                [
                    session.id,
                    repr(session.last_activity),
                    self.ttl_ms,
                    limits.total,
                    limits.per_client,
                    repr(time.time() - self.timeout),
                    *pairs,
                ],
            )
        if added == -1:
            raise LimitReached("total", limits.total)
        if added == -2:
            raise LimitReached("client", limits.per_client)
        return added == 1

    async def get(self, session_id: str, *, touch: bool = True) -> Session | None:
        now = time.time()
        with unavailable_on_error("get"):
            if touch:
                flat = await self._run(
                    TOUCH,
                    [
                        self._record(session_id),
                        self._index(session_id),
                        self._sessions,
                        self._log(session_id),
                    ],
                    [repr(now), self.timeout, session_id, self.ttl_ms],
                )
                if not flat:
                    self._recent.pop(session_id, None)
                    return None
                fields = dict(zip(flat[::2], flat[1::2], strict=True))
                self._remember(session_id, fields)
            else:
                self._writes.send()
                found = await multiplexer(self.redis).execute("HGETALL", self._record(session_id))
                # A map in RESP3, a flat list in RESP2.
                fields = found if isinstance(found, dict) else dict(zip(found[::2], found[1::2], strict=True))
        if not self._live(fields, now):
            return None
        return self._session(session_id, fields)

    def _remember(self, session_id: str, fields: dict[str, Any]) -> None:
        recent = self._recent
        recent[session_id] = fields
        recent.move_to_end(session_id)
        if len(recent) > MAX_CACHED:
            recent.popitem(last=False)

    def _follow(self, session_id: str, changed: dict[str, str], version: int | None) -> None:
        """This process's own write of ``changed`` applied to the kept record, so that it stays
        current; ``version`` is what the write moved the record's version to (None: it did not
        move it). A version that moved further means another process wrote too: the kept
        record is dropped (the next call reads it afresh)."""
        kept = self._recent.get(session_id)
        if kept is None:
            return
        if version is not None:
            if version != _version(kept) + 1:
                del self._recent[session_id]
                return
            kept["v"] = str(version)
        kept.update(changed)

    def cached(self, session_id: str) -> tuple[Session, Any] | None:
        # ``seen`` is the kept fields themselves: this process's own writes update them in
        # place (their version included), a fresh read replaces them.
        fields = self._recent.get(session_id)
        if fields is None or not self._live(fields, time.time()):
            return None
        return self._session(session_id, fields), fields

    async def commit(self, session_id: str, seen: Any, state: dict[str, Any]) -> str:
        # The queued write-behind goes first, so the version it moves is counted in ``seen``.
        self._writes.send()
        changed = {STATE + key: _encode(value) for key, value in state.items()}
        pairs = [item for pair in changed.items() for item in pair]
        with unavailable_on_error("commit"):
            done = await self._run(
                COMMIT,
                [
                    self._record(session_id),
                    self._index(session_id),
                    self._sessions,
                    self._log(session_id),
                ],
                [repr(time.time()), self.timeout, session_id, self.ttl_ms, _version(seen), *pairs],
            )
        if isinstance(done, list):
            # Changed elsewhere: what it is now is kept, for the caller to judge (``cached``).
            self._remember(session_id, dict(zip(done[::2], done[1::2], strict=True)))
            return STALE
        if int(done) == 1:
            self._follow(session_id, changed, None)
            return COMMITTED
        self._recent.pop(session_id, None)
        return GONE

    async def _set_fields(self, session_id: str, pairs: list[str]) -> bool:
        with unavailable_on_error("update"):
            version = int(
                await self._run(
                    SET_FIELDS, [self._record(session_id)], [repr(time.time()), self.timeout, *pairs]
                )
            )
        if version:
            self._follow(session_id, dict(zip(pairs[::2], pairs[1::2], strict=True)), version)
        else:
            self._recent.pop(session_id, None)
        return bool(version)

    @staticmethod
    def _pairs(fields: dict[str, Any]) -> list[str]:
        """``fields`` (see UPDATABLE) as the record's field, JSON pairs."""
        check_updatable(fields)
        pairs: list[str] = []
        for name, value in fields.items():
            pairs += [name, _encode(value)]
        return pairs

    async def update(self, session_id: str, **fields: Any) -> bool:
        pairs = self._pairs(fields)
        if not pairs:
            return await self.get(session_id, touch=False) is not None
        return await self._set_fields(session_id, pairs)

    async def set_state(self, session_id: str, key: str, value: Any) -> bool:
        return await self._set_fields(session_id, [STATE + key, _encode(value)])

    async def push(self, session_id: str, name: str, item: Any, *, cap: int) -> int:
        with unavailable_on_error("push"):
            length = await self._run(
                PUSH,
                [self._record(session_id), self._index(session_id), self._list(session_id, name)],
                [repr(time.time()), self.timeout, _encode(item), max(1, cap)],
            )
        return int(length)

    def append_log(self, session_id: str, blob: bytes, *, cap: int) -> None:
        self._writes.add((session_id, blob, max(1, cap), []))

    def update_soon(self, session_id: str, **fields: Any) -> None:
        self._writes.add((session_id, None, 1, self._pairs(fields)))

    def _send_writes(self, batch: list[tuple[str, bytes | None, int, list[str]]]) -> Awaitable[Any]:
        """One script call for the whole batch, queued now: each session's blobs in the order
        appended, its fields in the order set (the last value of a field wins)."""
        logs: dict[str, list[bytes]] = {}
        caps: dict[str, int] = {}
        fields: dict[str, dict[str, str]] = {}
        for session_id, blob, cap, pairs in batch:
            logs.setdefault(session_id, [])
            fields.setdefault(session_id, {})
            if blob is not None:
                logs[session_id].append(blob)
                caps[session_id] = cap
            fields[session_id].update(zip(pairs[::2], pairs[1::2], strict=True))
        keys: list[str] = []
        args: list[Any] = [repr(time.time()), self.timeout]
        for session_id, changed in fields.items():
            if changed and session_id in self._recent:
                # These writes go ahead of any later command, and the script moves the
                # version by one for each session whose fields it sets.
                self._follow(session_id, changed, _version(self._recent[session_id]) + 1)
        for session_id, blobs in logs.items():
            keys += [self._record(session_id), self._log(session_id)]
            args += [caps.get(session_id, 1), frame(blobs), len(fields[session_id])]
            for name, value in fields[session_id].items():
                args += [name, value]
        return WRITES.submit(self.redis, keys, args)

    async def read_log(self, session_id: str) -> list[bytes]:
        await self._writes.flush()
        with unavailable_on_error("read_log"):
            found = await READ_LOG.binary(
                self.redis,
                [self._record(session_id), self._log(session_id), self._list(session_id, LEGACY_LOG)],
                [repr(time.time()), self.timeout],
            )
        if not found:
            return []
        *legacy, log = found
        return [*legacy, *unframe(log)]

    async def flush(self) -> None:
        await self._writes.flush()

    async def _read_if_live(self, session_id: str, read: Callable[[Pipeline], object]) -> Any:
        """Run ``read(pipe)`` in one MULTI with the liveness check; None if the session is gone."""
        now = time.time()
        with unavailable_on_error("read"):
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hget(self._record(session_id), "last_activity")
                read(pipe)
                last, value = await pipe.execute()
        if last is None or self.expired(float(last), now):
            return None
        return value

    async def items(self, session_id: str, name: str) -> list[Any]:
        raw = await self._read_if_live(
            session_id, lambda pipe: pipe.lrange(self._list(session_id, name), 0, -1)
        )
        return [orjson.loads(item) for item in raw or ()]

    async def put_item(self, session_id: str, namespace: str, key: str, value: Any) -> None:
        with unavailable_on_error("put_item"):
            await self._run(
                PUT_ITEM,
                [self._record(session_id), self._index(session_id), self._namespace(session_id, namespace)],
                [repr(time.time()), self.timeout, key, _encode(value)],
            )

    async def incr(self, session_id: str, namespace: str, key: str) -> int:
        with unavailable_on_error("incr"):
            value = await self._run(
                INCR_ITEM,
                [self._record(session_id), self._index(session_id), self._namespace(session_id, namespace)],
                [repr(time.time()), self.timeout, key],
            )
        return int(value)

    async def get_item(self, session_id: str, namespace: str, key: str) -> Any | None:
        raw = await self._read_if_live(
            session_id, lambda pipe: pipe.hget(self._namespace(session_id, namespace), key)
        )
        return None if raw is None else orjson.loads(raw)

    async def all_items(self, session_id: str, namespace: str) -> dict[str, Any]:
        raw = await self._read_if_live(
            session_id, lambda pipe: pipe.hgetall(self._namespace(session_id, namespace))
        )
        return {key: orjson.loads(value) for key, value in (raw or {}).items()}

    async def delete_item(self, session_id: str, namespace: str, key: str) -> bool:
        with unavailable_on_error("delete_item"):
            return bool(await self.redis.hdel(self._namespace(session_id, namespace), key))

    async def claim_once(self, namespace: str, key: str, ttl: float) -> bool:
        with unavailable_on_error("claim_once"):
            return bool(
                await self.redis.set(
                    f"{self.prefix}:once:{namespace}:{key}", b"1", nx=True, px=math.ceil(ttl * 1000)
                )
            )

    async def shared_secret(self, name: str) -> bytes:
        """As the base class says; read from Redis at most once a ``SECRET_KEPT`` per process
        (every stateless call mints or verifies state with it), so a secret lost with Redis's
        data is agreed on again by every process within that time."""
        now = time.monotonic()
        kept = self._secrets.get(name)
        if kept is not None and now < kept[1]:
            return kept[0]
        with unavailable_on_error("shared_secret"):
            found = await self._run(SECRET, [f"{self.prefix}:secret:{name}"], [secrets.token_hex(32)])
        secret = bytes.fromhex(found)
        self._secrets[name] = (secret, now + SECRET_KEPT)
        return secret

    async def delete_if(self, session_id: str, claim: Claim, *, then: LuaStep | None = None) -> str:
        if then is not None and not self.runs(then):
            raise ValueError("delete_if: the step is for another Redis")
        keys = [self._record(session_id), self._totals, *(then.keys if then else ())]
        args = [
            repr(time.time()),
            self.timeout,
            self.prefix,
            session_id,
            "" if claim.principal is None else _encode(claim.principal),
            ("=" if claim.stateless else "~") + _encode(claim.modern_version),
            STATE + claim.refused_by if claim.refused_by else "",
            *(then.args if then else ()),
        ]
        self._recent.pop(session_id, None)
        with unavailable_on_error("delete"):
            done = await self._run(delete_if_script(then), keys, args)
        return {1: DELETED, 2: REFUSED}.get(int(done), UNKNOWN)

    def runs(self, step: LuaStep) -> bool:
        return step.url == self.url

    async def delete(self, session_id: str) -> bool:
        self._recent.pop(session_id, None)
        with unavailable_on_error("delete"):
            return bool(await self._run(DELETE, [self._totals], [self.prefix, session_id]))

    async def list(self, *, limit: int = 100) -> list[Session]:
        now = time.time()
        cutoff = now - self.timeout
        with unavailable_on_error("list"):
            ids = await self.redis.zrevrangebyscore(self._sessions, "+inf", cutoff, start=0, num=limit)
            async with self.redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.hgetall(self._record(session_id))
                records = await pipe.execute()
        return [
            self._session(session_id, fields)
            for session_id, fields in zip(ids, records, strict=True)
            if self._live(fields, now)
        ]

    async def stats(self) -> StoreStats:
        cutoff = time.time() - self.timeout
        with unavailable_on_error("stats"):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zcount(self._sessions, cutoff, "+inf")
                pipe.hmget(self._totals, ["created", "expired", "deleted"])
                for key in self._kind_keys.values():
                    # Ended records leave the activity index: the intersection forgets them.
                    pipe.zinterstore(key, {key: 0, self._sessions: 1})
                    pipe.zcount(key, cutoff, "+inf")
                active, (created, expired, deleted), *kinds = await pipe.execute()
        by_kind = {kind: int(count) for kind, count in zip(self._kind_keys, kinds[1::2], strict=True)}
        by_kind[SESSION] = int(active) - sum(by_kind.values())
        return StoreStats(
            active=int(active),
            created_total=int(created or 0),
            expired_total=int(expired or 0),
            deleted_total=int(deleted or 0),
            active_by_kind=by_kind,
        )

    async def count_for_client(self, client: str) -> int:
        """Sessions of ``client`` not yet deleted or swept (an expired one counts until swept)."""
        with unavailable_on_error("count_for_client"):
            return int(await self.redis.zcard(self._client_sessions(client)))

    async def sweep(self) -> list[str]:
        cutoff = time.time() - self.timeout
        gone: list[str] = []
        with unavailable_on_error("sweep"):
            while True:
                batch = await self._run(
                    SWEEP, [self._sessions, self._totals], [self.prefix, repr(cutoff), SWEEP_BATCH]
                )
                gone += batch
                if len(batch) < SWEEP_BATCH:
                    return gone

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self._writes.flush()
        await close_redis(self.url)

    async def reset(self) -> None:
        """Delete this store's keys (and only them): tests."""
        prefix = glob_escape(self.prefix)
        with unavailable_on_error("reset"):
            await delete_matching(self.redis, [f"{prefix}:[slixct]:*"])
            await self.redis.delete(self._sessions, self._totals, *self._kind_keys.values())
