"""Where every MCP message received is noted once, and its answer: the telemetry hook.

Every path calls ``received`` for each message it takes (a POST of either era, each element
of a batch, legacy ``/messages``) and ``answered`` with what it sent back. What they do:

- ``received`` notes the first message's ``params._meta`` on the exchange's ``RequestInfo``
  (its traffic record shows the client's trace context from it, ``mcp.ops.observe``); with
  telemetry on (``mcp.telemetry.ON``) it also starts the message's SERVER span, kept in
  ``ctx.trace`` for the handler (child spans, traceInfo) and on the RequestInfo (the traffic
  record's ``server_trace_id``);
- ``answered`` ends that span with the response message (its error code becomes
  ``error.type``) or a failure without one (``cancelled``, ``unavailable``), and records
  ``mcp.server.operation.duration``.

With telemetry off each costs an attribute test or two: nothing of OpenTelemetry is imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcp import telemetry
from mcp.tools import get_registry

if TYPE_CHECKING:
    from mcp.calls.context import Context

# Distinguishes "no message seen yet" from "a message without _meta" on RequestInfo.meta.
NO_META: dict[str, Any] = {}


def _known_target(method: str, params: Mapping[str, Any]) -> bool:
    """Whether the tool or prompt named exists (only those are named in metrics)."""
    name = params.get("name")
    if method == "tools/call":
        return isinstance(name, str) and get_registry().get(name) is not None
    if method == "prompts/get":
        return isinstance(name, str) and name in get_registry().prompts
    return True


def received(
    ctx: Context,
    method: str,
    params: Mapping[str, Any],
    request_id: Any = None,
    *,
    protocol_version: str | None = None,
    round_parent: str | None = None,
) -> None:
    """Note one message received on ``ctx`` (see the module docstring)."""
    info = ctx.request
    if info.meta is None:
        info.meta = params.get("_meta", NO_META)
    if not telemetry.ON:
        return
    session = ctx.session
    ctx.trace = telemetry.received(
        method,
        params,
        request_id=request_id,
        session_id=session.id if session is not None else None,
        protocol_version=protocol_version or (session.protocol_version if session is not None else None),
        headers=info.headers,
        client=(info.client_addr, 0),
        round_parent=round_parent,
        known_target=_known_target(method, params),
    )
    if info.trace is None:
        info.trace = ctx.trace


def answered(ctx: Context, response: Mapping[str, Any] | None, *, failure: str | None = None) -> None:
    """End the message's span with ``response`` (None for a notification) or ``failure``."""
    if ctx.trace is not None:
        ctx.trace.finish(response, failure=failure)


def input_requests(ctx: Context, requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A round's input requests (2026-07-28), each carrying its own CLIENT span's context in
    ``params._meta`` when traced. The span ends at once: the answer comes in a retry, which
    may reach another node; the retry's span joins this trace through the round's state."""
    if ctx.trace is None:
        return requests
    sent = {}
    for key, request in requests.items():
        asked = ctx.trace.asking(request["method"], request.get("params"))
        asked.finish(None)
        sent[key] = {**request, "params": asked.params}
    return sent
