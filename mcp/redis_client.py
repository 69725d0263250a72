"""The one Redis entry point: which backend is in use, the client every module gets, Lua scripts,
one failure.

``uses_redis()`` is the one place that says whether sessions and queues live in Redis
(MCP_STORE); ``get_redis()`` is the one way any module gets a client (the store, the bus,
the broadcast channel, the rate limiter, the statistics, the revocation list): one client per
URL and event loop, shared, opened on first use; ``close_redis()`` closes it and the next
``get_redis()`` opens a new one. ``get_sync_redis()`` is the same for the few synchronous
callers (the admin and OAuth views). No module keeps a client of its own.

Both talk to Redis with ``redis.asyncio`` on ``REDIS_URL`` (Django's async cache API would
hop to a thread for every call, and its ``aincr`` is not atomic). Every multi-key change is
a Lua script, so it is atomic on the server and costs one round trip. The scripts build a
few key names from the prefix, which standalone Redis allows and Redis Cluster does not:
these backends target one Redis server (or a primary with replicas), not a cluster.

A Redis that cannot be reached raises ``StoreUnavailable`` (the request fails with 503),
never an answer that looks like "no such session".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from redis._parsers.hiredis import NOT_ENOUGH_DATA
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.client import NEVER_DECODE
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, NoScriptError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from mcp.errors import StoreUnavailable

# A failover leaves clients on a read-only replica for a moment: unavailable, not a bug.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, ReadOnlyError, OSError)


# Connections one client (store, bus, broadcast) keeps open to Redis at most. A request that
# finds them all busy waits for one (up to the socket timeout): redis-py's default pool would
# refuse it instead (MaxConnectionsError past 100 in use), a 503 under 100+ concurrent requests.
MAX_CONNECTIONS = 100


def uses_redis() -> bool:
    """True when sessions, queues and figures live in Redis (MCP_STORE=redis), else in memory."""
    return settings.MCP_STORE == "redis"


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, aioredis.Redis]] = (
    weakref.WeakKeyDictionary()
)


def get_redis(url: str | None = None) -> aioredis.Redis:
    """The client for ``url`` (REDIS_URL by default) in the running event loop, opened on first
    use and shared by every caller there; commands go through its ``multiplexer``."""
    loop = asyncio.get_running_loop()
    clients = _clients.get(loop)
    if clients is None:
        clients = _clients[loop] = {}
    url = url or settings.REDIS_URL
    client = clients.get(url)
    if client is None:
        client = clients[url] = _connect(url)
    return client


async def close_redis(url: str | None = None) -> None:
    """Close the running loop's client for ``url`` (every URL when None); a later
    ``get_redis`` opens a new one."""
    clients = _clients.get(asyncio.get_running_loop(), {})
    for key in [url or settings.REDIS_URL] if url or not clients else list(clients):
        client = clients.pop(key, None)
        if client is not None:
            with contextlib.suppress(Exception):
                await close_client(client)


_sync_clients: dict[str, Any] = {}


def get_sync_redis(url: str | None = None) -> Any:
    """A synchronous ``redis.Redis`` for ``url`` (REDIS_URL by default), shared by the process's
    threads (its pool is thread-safe): for callers outside the event loop."""
    import redis

    url = url or settings.REDIS_URL
    client = _sync_clients.get(url)
    if client is None:
        client = _sync_clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return client


def _connect(url: str) -> aioredis.Redis:
    """A client with short timeouts: a request fails fast (503) rather than hanging."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=10,
        decode_responses=True,
        socket_connect_timeout=5,
        socket_timeout=10,
        # Two quick retries survive a stale pooled connection after a Redis restart.
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        # Pub/sub connections sit idle; a periodic PING finds a silently dead one.
        health_check_interval=30,
    )
    return aioredis.Redis.from_pool(pool)


@contextlib.contextmanager
def unavailable_on_error(what: str) -> Iterator[None]:
    try:
        yield
    except UNAVAILABLE as exc:
        raise StoreUnavailable(f"redis unreachable during {what}: {type(exc).__name__}") from exc


def pack(args: Sequence[Any]) -> bytes:
    """One command in the Redis protocol (RESP), as redis-py's encoder would write it (str as
    UTF-8, int and float as their decimal text, bytes as they are), without its per-argument
    layers: this runs for every command on the hot path."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, int) and not isinstance(arg, bool):
            data = b"%d" % arg
        elif isinstance(arg, float):
            data = repr(arg).encode()
        else:
            raise DataError(
                f"a Redis command argument must be str, bytes, int or float, not {type(arg).__name__}"
            )
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


@dataclass(slots=True)
class RoundTrips:
    """What the multiplexed connections of this process have sent: ``round_trips`` counts the
    writes (each a batch of commands whose replies are then awaited together), ``commands``
    the commands in them. A test reads the difference over one operation."""

    round_trips: int = 0
    commands: int = 0


SENT = RoundTrips()


class Multiplexer:
    """Short commands from concurrent tasks on one shared connection, pipelined.

    The commands asked during one event-loop turn are written together, and their replies
    are handed out in order as they arrive: Redis answers a connection's commands in the
    order it received them. A command costs a few microseconds instead of a pooled
    connection's acquire, release, retry and timeout layers (measured: about 45 µs of CPU
    each), and under load many commands share each system call. redis-py has no such mode:
    it opens the connection here (TLS, AUTH, SELECT, whatever ``REDIS_URL`` says), then its
    transport is handed to ``Replies``, which parses with the hiredis reader redis-py made for
    the connection, in the transport's data callback, and settles each reply's future there,
    with no reading coroutine and no timeout context per reply.

    Only for commands that answer at once (scripts, reads and writes): never a blocking
    command, a subscription or a transaction, which would hold up every other caller.

    Guarantees: a reply goes to the command that asked it; an error reply (``ResponseError``)
    fails only its command; a lost connection, or one that answers nothing for the socket
    timeout while commands wait, fails every command in flight with ``ConnectionError`` or
    ``TimeoutError`` (the callers' 503) and the next command opens a new connection; a
    caller that is cancelled leaves its reply to be read and dropped.
    """

    def __init__(self, pool: aioredis.ConnectionPool) -> None:
        self._pool = pool
        self.loop = asyncio.get_running_loop()
        self._conn: Replies | None = None
        self._connecting = asyncio.Lock()
        self._outgoing: list[bytes] = []
        self._flush_pending = False
        self._timeout: float = pool.connection_kwargs.get("socket_timeout") or 10.0

    async def execute(self, *args: Any) -> Any:
        if self._conn is None:
            await self._connect()
        return await self.submit(*args)

    def submit(self, *args: Any) -> asyncio.Future[Any]:
        """Queue a command now, in order with every other one, and return its reply's future;
        on a connection that is not open yet the future fails with ``ConnectionError``."""
        answer = self.loop.create_future()
        conn = self._conn
        if conn is None:
            answer.set_exception(RedisConnectionError("the Redis connection is not open"))
            return answer
        self._outgoing.append(pack(args))
        conn.waiting.append(answer)
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self._flush)
        return answer

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def _connect(self) -> Replies:
        async with self._connecting:
            if self._conn is None:
                conn = self._pool.connection_class(**self._pool.connection_kwargs)
                await conn.connect()
                await _load_scripts(conn)
                self._conn = Replies.take_over(self, conn)
            return self._conn

    def _flush(self) -> None:
        self._flush_pending = False
        conn = self._conn
        if not self._outgoing or conn is None:  # (queued on a connection that failed: failed with it)
            return
        data, self._outgoing = self._outgoing, []
        if conn.transport.is_closing():
            self._fail(conn, RedisConnectionError("the Redis connection was lost"))
            return
        try:
            conn.transport.writelines(data)
        except Exception as exc:
            self._fail(conn, exc)
            return
        SENT.round_trips += 1
        SENT.commands += len(data)
        if conn.watchdog is None:
            conn.watchdog = self.loop.call_later(self._timeout, self._watch, conn, conn.replies)

    def _watch(self, conn: Replies, seen: int) -> None:
        """Fail the connection if commands have waited a whole socket timeout with no reply."""
        conn.watchdog = None
        if conn is not self._conn or not conn.waiting:
            return
        if conn.replies == seen:
            self._fail(conn, RedisTimeoutError(f"no reply from Redis within {self._timeout:g}s"))
        else:
            conn.watchdog = self.loop.call_later(self._timeout, self._watch, conn, conn.replies)

    def _fail(self, conn: Replies, exc: BaseException) -> None:
        """Forget ``conn`` and fail everything sent or queued on it."""
        if conn is self._conn:
            self._conn = None
            self._outgoing = []
        conn.close()
        error = (
            exc if isinstance(exc, UNAVAILABLE) else RedisConnectionError(f"Redis connection failed: {exc!r}")
        )
        waiting, conn.waiting = conn.waiting, deque()
        for answer in waiting:
            if not answer.done():
                answer.set_exception(error)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._fail(conn, RedisConnectionError("closed"))


class Replies(asyncio.Protocol):
    """The multiplexed connection's receiving side: the futures of the commands sent on it,
    in order, settled as hiredis parses their replies out of each chunk of data."""

    def __init__(self, lane: Multiplexer, transport: asyncio.Transport, reader: Any) -> None:
        self.lane = lane
        self.transport = transport
        self.reader = reader
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.replies = 0
        self.watchdog: asyncio.TimerHandle | None = None
        self.stream: Any = None

    @classmethod
    def take_over(cls, lane: Multiplexer, conn: Any) -> Replies:
        """The transport of redis-py's connection ``conn``, opened and handshaken, now read
        here with the hiredis reader redis-py made for it (its error classes, its decoding,
        and any bytes it holds unparsed); ``conn`` lets go of both (it would close the
        transport when collected). ``conn`` must use redis-py's hiredis parser (the project
        depends on ``redis[hiredis]``)."""
        transport = conn._writer.transport
        replies = cls(lane, transport, conn._parser._reader)
        left = bytes(conn._reader._buffer)  # nothing, after the handshake's replies were read
        transport.set_protocol(replies)
        # The stream writer closes its transport when collected: kept alive with the transport.
        replies.stream = conn._writer
        conn._writer = conn._reader = None
        replies.data_received(left)
        return replies

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        waiting = self.waiting
        while True:
            try:
                reply = reader.gets()
            except Exception as exc:  # a protocol error: nothing after it can be trusted
                self.lane._fail(self, exc)
                return
            if reply is NOT_ENOUGH_DATA:
                return
            self.replies += 1
            if isinstance(reply, RedisConnectionError) or (
                type(reply) is list and reply and isinstance(reply[0], RedisConnectionError)
            ):
                self.lane._fail(self, reply if isinstance(reply, Exception) else reply[0])
                return
            if not waiting:  # a reply nobody asked for: the stream is out of step
                self.lane._fail(self, RedisConnectionError("Redis sent a reply nobody asked for"))
                return
            answer = waiting.popleft()
            if answer.done():
                continue
            if isinstance(reply, Exception):
                answer.set_exception(reply)
            else:
                answer.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lane._fail(
            self, RedisConnectionError(f"the Redis connection was lost: {exc!r}" if exc else "closed")
        )

    def close(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        if not self.transport.is_closing():
            self.transport.close()


_multiplexers: weakref.WeakKeyDictionary[Any, Multiplexer] = weakref.WeakKeyDictionary()


def multiplexer(client: aioredis.Redis) -> Multiplexer:
    """The ``Multiplexer`` of ``client``'s connection pool (one per pool and event loop)."""
    pool = client.connection_pool
    found = _multiplexers.get(pool)
    if found is None or found.loop is not asyncio.get_running_loop():
        found = _multiplexers[pool] = Multiplexer(pool)
    return found


async def close_client(client: aioredis.Redis) -> None:
    """Close ``client``: its multiplexed connection and its pool."""
    lane = _multiplexers.pop(client.connection_pool, None)
    if lane is not None:
        await lane.close()
    await client.aclose()


@dataclass(frozen=True, slots=True)
class LuaStep:
    """A change one component asks another's script to make in the same atomic step (so
    both cost one round trip): ``source`` defines ``local function <name>(K, A)``, which is
    called with ``keys`` and ``args``. ``url`` names the Redis it is meant for: only a
    script on that server may run it."""

    url: str
    name: str
    source: str
    keys: tuple[str, ...]
    args: tuple[Any, ...]


# Every script made so far: a new multiplexed connection loads them all before its first
# command, so a script queued ahead of another (write-behind) meets no NOSCRIPT after a restart.
_SCRIPTS: dict[str, str] = {}


async def _load_scripts(conn: Any) -> None:
    sources = list(_SCRIPTS.values())
    if sources:
        await conn.send_packed_command([pack(("SCRIPT", "LOAD", source)) for source in sources])
        for _ in sources:
            await conn.read_response()


class Script:
    """A Lua script run by digest (EVALSHA) on the client's multiplexed connection, loaded
    when a connection opens (and again on NOSCRIPT, after a script cache flush). A lost
    connection is retried once on a new one (a Redis restart leaves the old connection
    dead), as the pooled client's retry did."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        _SCRIPTS[self.sha] = source

    async def __call__(self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        lane = multiplexer(client)
        command = ("EVALSHA", self.sha, len(keys), *keys, *args)
        try:
            return await self._loaded(client, lambda: lane.execute(*command))
        except (RedisConnectionError, OSError):
            return await self._loaded(client, lambda: lane.execute(*command))

    def submit(self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[Any]) -> asyncio.Future[Any]:
        """Queue the call now, ahead of any command asked after it, and return the outcome's
        future (a task: a lost connection or an unknown script is retried as ``__call__`` does)."""
        lane = multiplexer(client)
        sent = lane.submit("EVALSHA", self.sha, len(keys), *keys, *args) if lane.connected else None
        return asyncio.ensure_future(self._settle(client, keys, args, sent))

    async def _settle(
        self,
        client: aioredis.Redis,
        keys: Sequence[str],
        args: Sequence[Any],
        sent: asyncio.Future[Any] | None,
    ) -> Any:
        if sent is not None:
            try:
                return await sent
            except (NoScriptError, RedisConnectionError, OSError):
                pass
        return await self(client, keys, args)

    async def binary(self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run on a pooled connection with the reply's strings left as bytes (binary data,
        which the multiplexed connection would decode as text)."""
        command = ("EVALSHA", self.sha, len(keys), *keys, *args)
        return await self._loaded(client, lambda: client.execute_command(*command, **{NEVER_DECODE: True}))

    async def _loaded(self, client: aioredis.Redis, run: Callable[[], Awaitable[Any]]) -> Any:
        """``run()``, again after loading the script if this server does not know it yet."""
        try:
            return await run()
        except NoScriptError:
            await client.script_load(self.source)
            return await run()


def glob_escape(text: str) -> str:
    """``text`` as a literal inside a SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


async def delete_matching(client: aioredis.Redis, patterns: Sequence[str]) -> int:
    """Delete every key matching one of ``patterns`` (SCAN, never KEYS); tests only."""
    deleted = 0
    for pattern in patterns:
        batch: list[str] = []
        async for key in client.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                deleted += await client.unlink(*batch)
                batch = []
        if batch:
            deleted += await client.unlink(*batch)
    return deleted
