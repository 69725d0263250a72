"""What a handler or tool sees of the world: the request, its state scope, ways to talk back.

Never the Django request: ``RequestInfo`` is a plain snapshot taken by the transport, so
tools can be called from tests, the legacy SSE transport or a task runner alike. A Context
may have no session (a 2026-07-28 stateless request): nothing assumes one; what needs one
asks ``require_session()``, which raises a typed error the client sees.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp.bus import OUTBOX
from mcp.errors import ClientRequestFailed, MissingClientCapability, NoSession
from mcp.wire import jsonrpc
from mcp.wire.protocol import LOG_RANK

if TYPE_CHECKING:
    from mcp.bus import Bus
    from mcp.calls.inputs import Inputs
    from mcp.calls.streams import RequestStream
    from mcp.faults.draws import Draw
    from mcp.store import Session, SessionStore
    from mcp.telemetry.tracing import ServerOperation
    from mcp.wire.meta import RequestMeta
    from mcp.wire.request import RequestInfo

logger = logging.getLogger("mcp.context")

# Which client capability each server-to-client request needs (lifecycle: never send a
# request the client did not declare).
REQUIRED_CAPABILITY = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}

# Ids of server-to-client requests: unique within a session because they are unique in the
# process (counter) and across processes (random node prefix).
_NODE = secrets.token_hex(3)
_request_ids = itertools.count(1)


def next_server_request_id() -> str:
    return f"srv-{_NODE}-{next(_request_ids)}"


class Context:
    """Per-request view given to handlers and tools."""

    def __init__(
        self,
        *,
        request: RequestInfo,
        session: Session | None,
        store: SessionStore,
        bus: Bus,
        stream: RequestStream | None = None,
        request_id: jsonrpc.RequestId | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.request = request
        self.session = session
        self.store = store
        self.bus = bus
        self.stream = stream
        self.request_id = request_id
        self.meta = meta or {}
        # The exchange's injected faults (mcp.faults), for the points past the transport.
        self.faults: Draw | None = None
        self._last_progress: float | None = None
        # A 2026-07-28 (stateless) request: its _meta, and the inputs its retries carry.
        self.modern: RequestMeta | None = None
        self.inputs: Inputs | None = None
        # A state handle minted during this request (mcp.sessions.handles), to be shown to the client.
        self.minted_handle: str | None = None
        # The request the policy seam (mcp.policy.seam.clear) let run in this context.
        self.cleared: jsonrpc.Request | None = None
        # Why no handle could be minted for this stateless call (the caller's limit), if so.
        self.unminted: str | None = None
        # This message's SERVER span when telemetry is on (mcp.dispatch.traced), else None.
        self.trace: ServerOperation | None = None

    @property
    def stateless(self) -> bool:
        return self.modern is not None

    @property
    def session_id(self) -> str | None:
        return self.session.id if self.session else None

    def require_session(self) -> Session:
        """The session this request belongs to; NoSession (a JSON-RPC error) without one."""
        if self.session is None:
            raise NoSession()
        return self.session

    @property
    def progress_token(self) -> str | int | None:
        token = self.meta.get("progressToken")
        return token if jsonrpc.valid_id(token) else None

    @property
    def pid(self) -> int:
        return os.getpid()

    # --- Messages on this request's stream ------------------------------------------------

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> bool:
        """Send a notification ahead of the result; False if it cannot reach the client."""
        if self.stream is None:
            return False
        return await self.stream.emit(jsonrpc.notification(method, params))

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> bool:
        """Report progress against the client's progressToken (nothing is sent without one).

        Progress must increase: a value not above the last one sent is skipped.
        """
        token = self.progress_token
        if token is None:
            return False
        if self._last_progress is not None and progress <= self._last_progress:
            return False
        self._last_progress = progress
        params: dict[str, Any] = {"progressToken": token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        return await self.notify("notifications/progress", params)

    def log_enabled(self, level: str) -> bool:
        if self.modern is not None:
            # 2026-07-28: no notifications/message unless this request asked for a level.
            threshold = self.modern.log_level
            if threshold is None:
                return False
        else:
            threshold = self.session.log_level if self.session else None
            if threshold is None:
                return True
        return LOG_RANK.get(level, 0) >= LOG_RANK.get(threshold, 0)

    async def log(self, level: str, data: Any, logger_name: str | None = None) -> bool:
        """notifications/message at ``level``, if logging/setLevel (or the request's
        ``_meta`` log level, 2026-07-28) allows it."""
        if level not in LOG_RANK:
            raise ValueError(f"unknown log level {level!r}")
        if not self.log_enabled(level):
            return False
        params: dict[str, Any] = {"level": level, "data": data}
        if logger_name:
            params["logger"] = logger_name
        return await self.notify("notifications/message", params)

    # --- Messages on the session's GET stream ---------------------------------------------

    async def send_to_session(self, message: dict[str, Any]) -> bool:
        """Queue a message on the session's outbox (its GET stream); False without a session."""
        if self.session is None:
            return False
        await self.bus.publish(self.session.id, OUTBOX, message)
        return True

    # --- Server-to-client requests --------------------------------------------------------

    def client_declared(self, capability: str) -> bool:
        """Whether the client declared ``capability`` (this request's _meta, else the session's)."""
        if self.modern is not None:
            return self.modern.declared(capability)
        return self.session is not None and self.session.has_capability(capability)

    def require_capability(self, capability: str) -> None:
        """Stop unless the client declared ``capability``: -32021 (HTTP 400) for a stateless
        request, a tool error (ClientRequestFailed) within a session."""
        if self.client_declared(capability):
            return
        if self.modern is not None:
            raise MissingClientCapability(capability)
        raise ClientRequestFailed(f"the client did not declare the {capability!r} capability")

    async def ask_client_all(
        self, requests: dict[str, tuple[str, dict[str, Any] | None]]
    ) -> dict[str, dict[str, Any]]:
        """Several client requests at once, ``{key: (method, params)}``; the answers by key.

        Stateless: one InputRequiredResult asks for every input still missing (a task of the
        tasks extension waits, input_required, until tasks/update brings them).
        """
        if self.inputs is not None:
            return await self.inputs.ask_all(requests)
        replies = await asyncio.gather(
            *(self.ask_client(method, params) for method, params in requests.values())
        )
        return dict(zip(requests, replies, strict=True))

    async def ask_client(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a request to the client and wait for its answer (a POST to any process).

        Raises ClientRequestFailed when the client lacks the capability, the request cannot
        be delivered, the client answers with an error, or no answer arrives in time (then
        the request is cancelled with notifications/cancelled).

        Stateless (2026-07-28): the answer comes from the retried request's inputResponses
        under ``key`` (by default the n-th question of this run); without it the request ends
        with an InputRequiredResult (``InputRequired``), and a capability the client did not
        declare is refused with -32021 (``MissingClientCapability``).
        """
        if self.inputs is not None:
            return await self.inputs.ask(key or self.inputs.next_key(), method, params)
        session = self.session
        if session is None:
            raise ClientRequestFailed(f"{method} needs a session")
        capability = REQUIRED_CAPABILITY.get(method)
        if capability and not session.has_capability(capability):
            raise ClientRequestFailed(f"the client did not declare the {capability!r} capability")
        limit = timeout if timeout is not None else settings.MCP_CLIENT_REQUEST_TIMEOUT
        request_id = next_server_request_id()
        # Traced: a CLIENT span from sending to the answer, its context in params._meta.
        asked = self.trace.asking(method, params, request_id) if self.trace is not None else None
        waiter = self.bus.expect_reply(session.id, request_id)
        try:
            message = jsonrpc.request(request_id, method, params if asked is None else asked.params)
            if not (self.stream is not None and await self.stream.emit(message)):
                await self.bus.publish(session.id, OUTBOX, message)
            reply = await waiter.wait(limit)
        except BaseException as exc:
            if asked is not None:
                cancelled = isinstance(exc, asyncio.CancelledError)
                asked.finish(None, failure="cancelled" if cancelled else "_OTHER")
            raise
        finally:
            await waiter.close()
        if asked is not None:
            asked.finish(reply, failure="timeout" if reply is None else None)
        if reply is None:
            cancel = jsonrpc.notification(
                "notifications/cancelled", {"requestId": request_id, "reason": f"no answer within {limit:g}s"}
            )
            if not (self.stream is not None and await self.stream.emit(cancel)):
                await self.bus.publish(session.id, OUTBOX, cancel)
            raise ClientRequestFailed(f"the client did not answer {method} within {limit:g}s")
        if reply.get("error") is not None:
            error = reply["error"]
            raise ClientRequestFailed(
                f"the client answered {method} with error {error.get('code')}: {error.get('message')}"
            )
        return reply.get("result") or {}
