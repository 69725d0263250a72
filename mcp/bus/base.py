"""The message bus: channels-style, per-session streams of server-to-client messages.

A *stream* is a bounded, replayable log owned by one session:

- ``"g"`` is the session's outbox, read by its GET stream (notifications unrelated to any
  request: list_changed, resources/updated, unsolicited logs and requests).
- ``"r<n>"`` is one POSTed request's SSE stream (progress, logs, server-to-client requests,
  then the final response).

Every event has an id ``<stream>-<seq>``: unique within the session, and it names its
stream, so ``Last-Event-ID`` resumes exactly the stream that was cut and never another
stream's or another session's events. When a stream is full the oldest event is dropped and
counted. Delivery is at-most-once outside replay: a reader that has yielded an event does
not get it again unless the client asks to resume from an earlier id.

The bus also carries replies to server-to-client requests (``expect_reply`` /
``deliver_reply``): the client POSTs its answer, which may reach any process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.redis_client import LuaStep

OUTBOX = "g"


@dataclass(frozen=True, slots=True)
class Event:
    stream: str
    seq: int
    # None marks a priming event (an id with empty data) or a stream closed without a response.
    message: dict[str, Any] | None
    # The response that ends a request stream (or its absence, after cancellation).
    final: bool = False
    # Ends the live connection but not the stream: the client resumes with Last-Event-ID.
    hangup: bool = False

    @property
    def id(self) -> str:
        return f"{self.stream}-{self.seq}"


def parse_event_id(value: str) -> tuple[str, int] | None:
    """``"r3-7"`` -> ``("r3", 7)``; None for anything this server did not issue."""
    stream, sep, seq = value.strip().rpartition("-")
    if not sep or not (seq.isascii() and seq.isdigit()) or len(seq) > 18:
        return None
    if stream != OUTBOX and not (stream.startswith("r") and stream[1:].isascii() and stream[1:].isdigit()):
        return None
    return stream, int(seq)


class StreamClosed(Exception):
    """The session is gone or another reader took the stream over."""


@dataclass(slots=True)
class StreamInfo:
    stream: str
    queued: int
    dropped: int
    delivered: int
    finished: bool


class ReplyWaiter:
    """Waits for the client's answer to one server-to-client request."""

    async def wait(self, timeout: float) -> dict[str, Any] | None:
        """The client's JSON-RPC response message, or None on timeout."""
        raise NotImplementedError

    async def close(self) -> None:
        """Stop waiting; a late reply is then discarded."""


class Bus:
    """The contract; ``memory.MemoryBus`` is the reference implementation."""

    backend = "base"

    async def new_stream(self, session_id: str) -> str:
        """A fresh request-stream name for the session (``r<n>``)."""
        raise NotImplementedError("subclasses of Bus must provide new_stream()")

    async def publish(
        self,
        session_id: str,
        stream: str,
        message: dict[str, Any] | None,
        *,
        final: bool = False,
        hangup: bool = False,
    ) -> Event:
        """Append to the stream (dropping and counting its oldest if full) and wake readers."""
        raise NotImplementedError("subclasses of Bus must provide publish()")

    async def read(self, session_id: str, stream: str, after: int, timeout: float) -> list[Event]:
        """Events with seq > ``after``, oldest first; waits up to ``timeout`` for one.

        Returns [] on timeout. Raises StreamClosed once the session's streams are dropped;
        a publish after that is discarded (it never resurrects a dropped session).
        """
        raise NotImplementedError("subclasses of Bus must provide read()")

    async def follow(
        self, session_id: str, stream: str, after: int, token: int, timeout: float, *, delivered: int = 0
    ) -> list[Event]:
        """``read``, for the stream's claimed reader (``claim`` gave it ``token``).

        First records ``delivered`` (when not 0: the last event the reader passed on since
        its previous call) as ``mark_delivered`` does. Raises StreamClosed when the session's
        streams are dropped or ``token`` is no longer the stream's owner (a newer reader took
        the stream over): checked before reading and again whenever the reader is woken, so
        a claim ends a waiting reader at once. One step of a GET stream's loop; backends do
        it in one go (Redis: one round trip) where this default takes three.
        """
        if delivered:
            await self.mark_delivered(session_id, stream, delivered)
        if await self.owner(session_id, stream) != token:
            raise StreamClosed(session_id)
        return await self.read(session_id, stream, after, timeout)

    async def exists(self, session_id: str, stream: str) -> bool:
        raise NotImplementedError("subclasses of Bus must provide exists()")

    async def mark_delivered(self, session_id: str, stream: str, seq: int) -> None:
        """Remember that the stream's events up to ``seq`` reached a reader."""
        raise NotImplementedError("subclasses of Bus must provide mark_delivered()")

    async def delivered(self, session_id: str, stream: str) -> int:
        raise NotImplementedError("subclasses of Bus must provide delivered()")

    async def claim(self, session_id: str, stream: str) -> int:
        """Make the caller the stream's only live reader; returns its claim token.

        A reader whose token is no longer current (``owner``) must stop: a reconnecting
        client replaces its stale GET stream instead of getting 409.
        """
        raise NotImplementedError("subclasses of Bus must provide claim()")

    async def owner(self, session_id: str, stream: str) -> int:
        raise NotImplementedError("subclasses of Bus must provide owner()")

    async def info(self, session_id: str, stream: str) -> StreamInfo:
        raise NotImplementedError("subclasses of Bus must provide info()")

    async def drop_session(self, session_id: str) -> None:
        """Delete every stream of the session and end its readers (StreamClosed)."""
        raise NotImplementedError("subclasses of Bus must provide drop_session()")

    def drop_step(self, session_id: str) -> LuaStep | None:
        """``drop_session``'s change as a step another Redis script can run in its own atomic
        step (then call ``dropped``); None for a bus not in Redis."""
        return None

    def dropped(self, session_id: str) -> None:
        """What ``drop_session`` does in this process, after its ``drop_step`` ran elsewhere."""

    async def overflows(self) -> int:
        """Events dropped from full streams since the bus began, across every process."""
        raise NotImplementedError("subclasses of Bus must provide overflows()")

    def local_sessions(self) -> list[str]:
        """Sessions holding state in this process (the sweeper frees those that ended)."""
        return []

    def expect_reply(self, session_id: str, request_id: str) -> ReplyWaiter:
        """Register interest before sending the request, so no answer can be missed."""
        raise NotImplementedError("subclasses of Bus must provide expect_reply()")

    async def deliver_reply(self, session_id: str, request_id: object, message: dict[str, Any]) -> bool:
        """Hand a client's response to whoever waits for it; False if nobody does."""
        raise NotImplementedError("subclasses of Bus must provide deliver_reply()")

    async def close(self) -> None:
        """Release connections and background tasks."""
