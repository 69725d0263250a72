"""The session store contract, and the policy every backend shares.

A session is what ``initialize`` negotiated (protocol version, client info and capabilities,
the principal it is bound to) plus a little state the tools keep (last echo, calculator
history, log level, subscriptions, tasks). Backends implement the primitives marked below;
``SessionStore`` owns id generation, expiry policy and the shape of a ``Session``.

Guarantees every backend gives:
- ``create`` never reuses an id and has stored the session before it returns.
- ``get`` never returns a session idle for longer than ``timeout`` seconds, whether or not
  the sweeper has run; looking up an unknown id never creates anything.
- Field updates (``update``, ``set_state``, ``push``, ``put_item``, ``incr``) are atomic per field:
  two concurrent writers never lose each other's writes to different fields, and ``push``
  never loses an item (up to the list's cap, beyond which the oldest are dropped).
- Each session has one log of opaque byte strings (``append_log``, ``read_log``: the
  traffic record), capped like a list and deleted with the session. ``append_log`` and
  ``update_soon`` may be write-behind: what they queued is written ahead of the store's next
  command, or within ``write_delay`` seconds; ``read_log`` and ``get`` (in the same
  process) see everything queued before they were called.
- ``delete_if`` checks who may end a session (``Claim``) and removes it in one atomic step.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.errors import StoreUnavailable
from mcp.figures import SESSION

if TYPE_CHECKING:
    from mcp.redis_client import LuaStep

# Fields of the session record that ``update`` may set.
UPDATABLE = frozenset({"initialized", "log_level", "protocol_version", "client_info", "client_capabilities"})


def check_updatable(fields: dict[str, Any]) -> None:
    """ValueError naming the fields ``update`` may not set."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")


# Record fields left out of the stored form while at these values.
DEFAULTS: dict[str, Any] = {
    "client_capabilities": {},
    "initialized": False,
    "principal": None,
    "log_level": None,
    "state": {},
    "requests": 0,
}


@dataclass(slots=True)
class Session:
    id: str
    created: float
    last_activity: float
    protocol_version: str
    client_info: dict[str, Any] = field(default_factory=dict)
    client_capabilities: dict[str, Any] = field(default_factory=dict)
    initialized: bool = False
    principal: str | None = None
    client_addr: str = ""
    log_level: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    requests: int = 0

    @property
    def client_key(self) -> str:
        """Who owns the session for per-client limits: the principal, else the address."""
        return self.principal or self.client_addr

    @property
    def client_name(self) -> str:
        name = self.client_info.get("name")
        return name if isinstance(name, str) and name else "unknown"

    @property
    def client_version(self) -> str:
        version = self.client_info.get("version")
        return version if isinstance(version, str) else ""

    def has_capability(self, name: str) -> bool:
        return isinstance(self.client_capabilities.get(name), dict)

    def age(self, now: float | None = None) -> float:
        return (now or time.time()) - self.created

    def idle(self, now: float | None = None) -> float:
        return (now or time.time()) - self.last_activity

    def to_record(self) -> dict[str, Any]:
        """The stored form: fields at their default are left out (``from_record`` restores
        them), since most sessions have no principal, log level, state or capabilities."""
        record: dict[str, Any] = {
            "created": self.created,
            "protocol_version": self.protocol_version,
            "client_info": self.client_info,
            "client_addr": self.client_addr,
        }
        for name, default in DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                record[name] = value
        return record

    @classmethod
    def from_record(cls, session_id: str, record: dict[str, Any], last_activity: float) -> Session:
        return cls(
            id=session_id,
            created=record["created"],
            last_activity=last_activity,
            protocol_version=record["protocol_version"],
            client_info=record.get("client_info") or {},
            client_capabilities=record.get("client_capabilities") or {},
            initialized=bool(record.get("initialized")),
            principal=record.get("principal"),
            client_addr=record.get("client_addr") or "",
            log_level=record.get("log_level"),
            state=record.get("state") or {},
            requests=int(record.get("requests") or 0),
        )


@dataclass(slots=True)
class StoreStats:
    """``active``: live records of every kind; ``active_by_kind``: the same split by kind (the
    totals count every kind alike)."""

    active: int
    created_total: int
    expired_total: int
    deleted_total: int
    active_by_kind: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Limits:
    """How many live records (sessions, state handles, tasks) ``create`` allows: in all, and
    per client (principal, else address). 0 means no limit."""

    total: int = 0
    per_client: int = 0


class LimitReached(Exception):
    """``create`` refused a record: the store (``scope`` "total") or the client ("client")
    already holds ``limit``. Checked and added in one atomic step, so concurrent creations on
    any number of processes never overshoot."""

    def __init__(self, scope: str, limit: int) -> None:
        super().__init__(f"{scope} limit of {limit} reached")
        self.scope = scope
        self.limit = limit

    def describe(self) -> str:
        """What is full, in the words of the setting that sets it."""
        if self.scope == "total":
            return f"the server holds its maximum of {self.limit} sessions"
        return f"this client holds its maximum of {self.limit} sessions (MCP_MAX_SESSIONS_PER_CLIENT)"


NO_LIMITS = Limits()

# What ``delete_if`` did.
DELETED = "deleted"
UNKNOWN = "unknown"
REFUSED = "refused"
# What ``SessionStore.commit`` found.
COMMITTED = "committed"
GONE = "gone"
STALE = "stale"


@dataclass(frozen=True, slots=True)
class Claim:
    """Who may end a session, checked in the same atomic step as its removal: it must be
    live, bound to ``principal`` (None: to nobody), of the era ``stateless`` names (the
    stateless era's records are at ``modern_version``), and without the app-state key
    ``refused_by`` set (a fault that expired it)."""

    principal: str | None
    stateless: bool
    modern_version: str
    refused_by: str | None = None

    def verdict(self, session: Session | None) -> str | None:
        """``UNKNOWN`` or ``REFUSED`` when the claim does not hold for ``session``, else None."""
        if (
            session is None
            or session.principal != self.principal
            or (session.protocol_version == self.modern_version) != self.stateless
        ):
            return UNKNOWN
        if self.refused_by and session.state.get(self.refused_by):
            return REFUSED
        return None


class SessionStore:
    """Owns session policy over a handful of backend primitives (see module docstring)."""

    backend = "base"
    # Seconds a write-behind write (``append_log``, ``update_soon``) may wait for a command
    # to ride with (backends that write at once ignore it).
    write_delay = 0.0

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    @staticmethod
    def new_id() -> str:
        """128 random bits as 32 hex characters: visible ASCII, unguessable."""
        return secrets.token_hex(16)

    def expired(self, last_activity: float, now: float) -> bool:
        return now - last_activity > self.timeout

    async def create(
        self,
        *,
        protocol_version: str,
        client_info: dict[str, Any],
        client_capabilities: dict[str, Any],
        principal: str | None = None,
        client_addr: str = "",
        limits: Limits | None = None,
        kind: str = SESSION,
    ) -> Session:
        """A new record of ``kind`` with a fresh id; ``LimitReached`` when ``limits`` forbid it.
        Its request count starts at 1: the exchange that created it."""
        now = time.time()
        for _ in range(8):
            session = Session(
                id=self.new_id(),
                created=now,
                last_activity=now,
                protocol_version=protocol_version,
                client_info=client_info,
                client_capabilities=client_capabilities,
                principal=principal,
                client_addr=client_addr,
                requests=1,
            )
            if await self._add(session, limits or NO_LIMITS, kind):
                return session
        raise StoreUnavailable("could not store a new session (is the store reachable?)")

    # Methods that backends must implement. ------------------------------------------------

    async def _add(self, session: Session, limits: Limits, kind: str) -> bool:
        """Store ``session`` unless its id exists (False) or ``limits`` forbid it
        (``LimitReached``), in one atomic step; True when stored. A record of another ``kind``
        than a session is noted as one (for ``stats``) in the same step."""
        raise NotImplementedError("subclasses of SessionStore must provide _add()")

    async def get(self, session_id: str, *, touch: bool = True) -> Session | None:
        """The live session, or None if unknown, deleted or idle past the timeout.

        With ``touch`` the last-activity time moves to now and the request count grows.
        """
        raise NotImplementedError("subclasses of SessionStore must provide get()")

    async def update(self, session_id: str, **fields: Any) -> bool:
        """Set top-level fields (see UPDATABLE); False if the session is gone."""
        raise NotImplementedError("subclasses of SessionStore must provide update()")

    def update_soon(self, session_id: str, **fields: Any) -> None:
        """``update`` written behind: returns at once (nothing if the session is gone); see
        the module docstring for when it is written."""
        raise NotImplementedError("subclasses of SessionStore must provide update_soon()")

    async def set_state(self, session_id: str, key: str, value: Any) -> bool:
        """Set one key of the session's app state; False if the session is gone."""
        raise NotImplementedError("subclasses of SessionStore must provide set_state()")

    async def push(self, session_id: str, name: str, item: Any, *, cap: int) -> int:
        """Append to the session's list ``name``, keeping the newest ``cap``; return its length."""
        raise NotImplementedError("subclasses of SessionStore must provide push()")

    async def items(self, session_id: str, name: str) -> list[Any]:
        """The session's list ``name``, oldest first."""
        raise NotImplementedError("subclasses of SessionStore must provide items()")

    def append_log(self, session_id: str, blob: bytes, *, cap: int) -> None:
        """Append ``blob`` to the session's log, keeping the newest ``cap``; nothing if it is gone.

        Returns at once; the write may complete later (see the module docstring).
        """
        raise NotImplementedError("subclasses of SessionStore must provide append_log()")

    async def read_log(self, session_id: str) -> list[bytes]:
        """The session's log, oldest first ([] for an unknown session)."""
        raise NotImplementedError("subclasses of SessionStore must provide read_log()")

    async def flush(self) -> None:
        """Wait until every ``append_log`` made so far has been written (or has failed)."""

    async def put_item(self, session_id: str, namespace: str, key: str, value: Any) -> None:
        """Store one keyed record under the session (tasks, subscriptions)."""
        raise NotImplementedError("subclasses of SessionStore must provide put_item()")

    async def get_item(self, session_id: str, namespace: str, key: str) -> Any | None:
        raise NotImplementedError("subclasses of SessionStore must provide get_item()")

    async def all_items(self, session_id: str, namespace: str) -> dict[str, Any]:
        raise NotImplementedError("subclasses of SessionStore must provide all_items()")

    async def delete_item(self, session_id: str, namespace: str, key: str) -> bool:
        raise NotImplementedError("subclasses of SessionStore must provide delete_item()")

    async def incr(self, session_id: str, namespace: str, key: str) -> int:
        """Add one to the integer item ``key`` (absent: 0) and return it; 0 if the session is gone.

        Atomic: concurrent callers, on any process, each get a different number.
        """
        raise NotImplementedError("subclasses of SessionStore must provide incr()")

    async def delete(self, session_id: str) -> bool:
        """Remove the session and everything stored under it; True if it existed."""
        raise NotImplementedError("subclasses of SessionStore must provide delete()")

    def cached(self, session_id: str) -> tuple[Session, Any] | None:
        """The record as this process last read it, and what ``commit`` needs to tell whether
        it changed since, without asking the store (None: not kept, or a backend with nothing
        to save; then ``get`` it). It may be out of date: only a call that ``commit`` checks
        may run on it."""
        return None

    async def commit(self, session_id: str, seen: Any, state: dict[str, Any]) -> str:
        """In one atomic step, if the session is live and unchanged since ``cached`` gave
        ``seen`` (this process's own writes since do not count): touch it (as ``get`` does)
        and set ``state``'s keys of its app state; ``COMMITTED``. ``GONE`` when it is not live
        (nothing written), ``STALE`` when another process changed it (nothing written;
        ``cached`` then gives the record as it is now, read in the same step). Writes made
        this way do not count as changes: they are the blind writes of calls that never read
        them back."""
        raise NotImplementedError("this store keeps no cached records to commit against")

    async def delete_if(self, session_id: str, claim: Claim, *, then: LuaStep | None = None) -> str:
        """Remove the session if ``claim`` holds (``DELETED``), else ``UNKNOWN`` or ``REFUSED``
        (see ``Claim``), in one atomic step. ``then`` runs in that step when it was deleted,
        on a backend that ``runs`` it."""
        verdict = claim.verdict(await self.get(session_id, touch=False))
        if verdict is not None:
            return verdict
        return DELETED if await self.delete(session_id) else UNKNOWN

    def runs(self, step: LuaStep) -> bool:
        """True when ``delete_if(..., then=step)`` runs ``step`` in its atomic step."""
        return False

    async def list(self, *, limit: int = 100) -> list[Session]:
        """Live sessions, most recently active first."""
        raise NotImplementedError("subclasses of SessionStore must provide list()")

    async def stats(self) -> StoreStats:
        raise NotImplementedError("subclasses of SessionStore must provide stats()")

    async def count_for_client(self, client: str) -> int:
        """Live sessions created by ``client`` (principal, else address). O(n) here; override."""
        return sum(1 for s in await self.list(limit=10**9) if (s.principal or s.client_addr) == client)

    async def claim_once(self, namespace: str, key: str, ttl: float) -> bool:
        """True the first time ``key`` is claimed in ``namespace`` within ``ttl`` seconds, then False.

        Atomic across processes sharing the store (one-time tokens, e.g. requestState nonces).
        """
        raise NotImplementedError("subclasses of SessionStore must provide claim_once()")

    async def shared_secret(self, name: str) -> bytes:
        """32 random bytes named ``name``, the same for every process sharing the store.

        Created by the first caller (atomically: concurrent first callers agree), kept forever.
        """
        raise NotImplementedError("subclasses of SessionStore must provide shared_secret()")

    async def sweep(self) -> list[str]:
        """Delete every session idle past the timeout; return their ids."""
        raise NotImplementedError("subclasses of SessionStore must provide sweep()")

    async def ping(self) -> bool:
        """True when the backing store answers."""
        raise NotImplementedError("subclasses of SessionStore must provide ping()")

    async def close(self) -> None:
        """Release connections; the store may be used again afterwards."""


class DeferredState:
    """The store as one call run on a ``cached`` record sees it: ``set_state`` on that record
    is kept until ``commit``, so that the call's touch and writes go to the store in one step;
    everything else, and any write after the commit, goes to ``store`` at once."""

    def __init__(self, store: SessionStore, session_id: str, seen: Any) -> None:
        self.store = store
        self.session_id = session_id
        self.seen = seen
        self.writes: dict[str, Any] | None = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def set_state(self, session_id: str, key: str, value: Any) -> bool:
        if self.writes is None or session_id != self.session_id:
            return await self.store.set_state(session_id, key, value)
        self.writes[key] = value
        return True

    async def commit(self, still_fits: Callable[[Session], bool]) -> str:
        """``SessionStore.commit`` of what was kept. When another process changed the record,
        the call stands if the record as it is now passes ``still_fits`` (it would have run the
        same way): then it commits against that (a few times at most); else ``STALE``."""
        writes = self.writes or {}
        for _ in range(3):
            outcome = await self.store.commit(self.session_id, self.seen, writes)
            fresh = self.store.cached(self.session_id) if outcome == STALE else None
            if fresh is None or not still_fits(fresh[0]):
                break
            self.seen = fresh[1]
        self.writes = None
        return outcome
