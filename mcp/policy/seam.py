"""The decisions of the policy seam, each made once per exchange or per MCP message.

Guarantees (every registered path calls these; ``mcp.dispatch`` refuses a request that did
not pass ``clear``, so a path that skips the seam fails loudly instead of running unchecked):

- ``admit``: the principal, from a token verified in MCP_AUTH=jwt or embedded mode with the
  required scopes (401/403 otherwise), then one message's worth of the rate limit (429).
- ``clear_all`` / ``clear``: a ``tools/call`` of a tool that needs the step-up scope is
  refused with 403 ``insufficient_scope`` and its challenge (embedded mode), whether it came
  alone, in a batch (the whole batch is refused before any of it runs), over the legacy
  transport or stateless; a batch's further elements count against the rate limit.
- ``session``: the caller's own session, or 404 (another principal's session is not found).
- ``stream``: a stream ends when the token that opened it is revoked (embedded mode), within
  one keep-alive interval; ``listen_slot`` caps concurrent subscriptions/listen streams per
  client address (MCP_MAX_LISTEN_PER_CLIENT, 429 beyond).
- No decision costs a Redis round trip except the rate limit (one, when MCP_RATE_LIMIT is set)
  and the revocation check of embedded mode on Redis (as before the seam).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import Any

from django.conf import settings

from mcp.auth import bearer as auth
from mcp.auth import scopes as authz
from mcp.calls.context import Context
from mcp.errors import TooManyRequests
from mcp.policy import limits
from mcp.policy.paths import Path
from mcp.sessions import operations as sessions
from mcp.store import Session, SessionStore
from mcp.wire import jsonrpc
from mcp.wire.request import RequestInfo


def rate_key(info: RequestInfo) -> str:
    return info.principal or info.client_addr


async def admit(info: RequestInfo) -> None:
    """Who is asking, within their rate limit (one message)."""
    await auth.authenticate(info)
    if settings.MCP_RATE_LIMIT:
        await limits.check_rate(rate_key(info))


def step_up(info: RequestInfo, message: jsonrpc.Request) -> None:
    """403 when ``message`` calls a tool that needs the step-up scope; a message that passed is
    marked on ``info``, so that ``clear`` does not decide it twice."""
    if message.method == "tools/call":
        authz.check_step_up(info, str(message.params.get("name", "")))
    info.stepped_up = message


def clear(ctx: Context, message: jsonrpc.Request, path: Path) -> None:
    """``message`` may run in ``ctx`` (403 otherwise); the method tables check this mark."""
    if ctx.request.stepped_up is not message:
        step_up(ctx.request, message)
    ctx.cleared = message


async def clear_all(info: RequestInfo, messages: Iterable[Any], path: Path, count: int) -> None:
    """A batch's requests, all decided before any runs; ``count`` messages in all."""
    for message in messages:
        if isinstance(message, jsonrpc.Request):
            step_up(info, message)
    if count > 1:
        await limits.check_rate(rate_key(info), count - 1)


def session(session_id: str, info: RequestInfo, store: SessionStore, *, echo_id: bool) -> Awaitable[Session]:
    """The caller's session ``session_id`` (404 if unknown, expired or another principal's)."""
    return sessions.owned(session_id, info.principal, store, echo_id=echo_id)


def stream(events: AsyncIterator[bytes], info: RequestInfo, path: Path) -> AsyncIterator[bytes]:
    """``events`` until the token that opened the stream is revoked (embedded mode)."""
    return authz.while_authorized(events, info)


_listening: dict[str, int] = {}


def listen_slot(info: RequestInfo) -> str:
    """Take one of the client address's MCP_MAX_LISTEN_PER_CLIENT listen slots (429 when
    none is free); give it back with ``release_listen``. Counted per process."""
    address = info.client_addr
    held = _listening.get(address, 0)
    if held >= settings.MCP_MAX_LISTEN_PER_CLIENT:
        raise TooManyRequests(
            f"Too Many Requests: this client address already has {held} open subscriptions/listen "
            "streams (MCP_MAX_LISTEN_PER_CLIENT)",
            headers={"Retry-After": "1"},
        )
    _listening[address] = held + 1
    return address


def release_listen(address: str) -> None:
    held = _listening.get(address, 0) - 1
    if held > 0:
        _listening[address] = held
    else:
        _listening.pop(address, None)
