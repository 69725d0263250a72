"""Task-augmented requests (2025-11-25, experimental): tools/call now, result later.

A task is a record in the session store (namespace ``tasks``), so in Redis mode any process
answers tasks/get, tasks/result, tasks/list and tasks/cancel for a task running on any
other. Tasks are bound to their session (and so to its principal): another session never
sees them. The tool runs in this process; cancelling a task running elsewhere marks it
cancelled and its late result is discarded.
"""

from __future__ import annotations

import asyncio
import contextvars
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mcp.bus import OUTBOX
from mcp.calls import running
from mcp.calls.context import Context
from mcp.calls.streams import OutboxStream
from mcp.errors import InvalidParams, ReplayedError, internal_error, message_for
from mcp.wire import jsonrpc
from mcp.wire.pagination import paginate

if TYPE_CHECKING:
    from mcp.tools import Tool

NAMESPACE = "tasks"
TERMINAL = frozenset({"completed", "failed", "cancelled"})
DEFAULT_TTL_MS = 3_600_000
MAX_TTL_MS = 86_400_000
POLL_INTERVAL_MS = 500
RELATED = "io.modelcontextprotocol/related-task"

Runner = Callable[[Context, "Tool", dict[str, Any]], Awaitable[dict[str, Any]]]


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def wire(record: dict[str, Any]) -> dict[str, Any]:
    """The Task as the protocol shows it (internal fields removed)."""
    task = {
        key: record[key] for key in ("taskId", "status", "createdAt", "lastUpdatedAt", "ttl", "pollInterval")
    }
    if record.get("statusMessage"):
        task["statusMessage"] = record["statusMessage"]
    return task


def _alive(record: dict[str, Any], now: float) -> bool:
    return now - record["created"] < record["ttl"] / 1000


async def start(
    ctx: Context, tool: Tool, params: dict[str, Any], task: dict[str, Any], run: Runner
) -> dict[str, Any]:
    """Create the task, run the tool in the background, answer CreateTaskResult at once."""
    session = ctx.require_session()
    requested = task.get("ttl", DEFAULT_TTL_MS)
    if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
        raise InvalidParams("Invalid params: task.ttl must be a positive integer (milliseconds)")
    now = time.time()
    record = {
        "taskId": secrets.token_urlsafe(16),
        "status": "working",
        "createdAt": _iso(now),
        "lastUpdatedAt": _iso(now),
        "ttl": min(requested, MAX_TTL_MS),
        "pollInterval": POLL_INTERVAL_MS,
        "created": now,
        "tool": tool.name,
    }
    session_id = session.id
    await ctx.store.put_item(session_id, NAMESPACE, record["taskId"], record)
    # The original request is answered already: the task's messages go to the GET stream.
    background = Context(
        request=ctx.request,
        session=session,
        store=ctx.store,
        bus=ctx.bus,
        stream=OutboxStream(bus=ctx.bus, session_id=session_id),
        meta=ctx.meta,
    )
    runner = asyncio.get_running_loop().create_task(
        _run(background, tool, params, record, run), context=contextvars.Context()
    )
    running.track(session_id, f"task:{record['taskId']}", runner)
    return {"task": wire(record)}


async def _run(ctx: Context, tool: Tool, params: dict[str, Any], record: dict[str, Any], run: Runner) -> None:
    session = ctx.require_session()
    try:
        result = await run(ctx, tool, params)
        status, response = ("failed" if result.get("isError") else "completed"), {"result": result}
    except asyncio.CancelledError:
        status, response = "cancelled", None
    except Exception as exc:
        status = "failed"
        response = {"error": message_for(None, internal_error(exc, f"task {record['taskId']}"))["error"]}
    current = await ctx.store.get_item(session.id, NAMESPACE, record["taskId"])
    if current is None or current["status"] in TERMINAL:
        return  # cancelled (maybe by another process) or expired meanwhile
    current.update(status=status, lastUpdatedAt=_iso(time.time()))
    if response is not None:
        current["response"] = response
    await ctx.store.put_item(session.id, NAMESPACE, record["taskId"], current)
    await ctx.bus.publish(
        session.id, OUTBOX, jsonrpc.notification("notifications/tasks/status", wire(current))
    )


async def _find(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    task_id = params.get("taskId")
    session = ctx.require_session()
    record = None
    if isinstance(task_id, str) and len(task_id) <= 64:
        record = await ctx.store.get_item(session.id, NAMESPACE, task_id)
    if record is None or not _alive(record, time.time()):
        raise InvalidParams("Invalid params: unknown taskId")
    return record


async def get(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return wire(await _find(ctx, params))


async def result(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Blocks until the task is terminal, then answers exactly what tools/call would have."""
    record = await _find(ctx, params)
    delay = 0.02
    while record["status"] not in TERMINAL:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)
        record = await _find(ctx, params)
    meta = {RELATED: {"taskId": record["taskId"]}}
    response = record.get("response")
    if response is None:
        raise InvalidParams("Invalid params: the task was cancelled and has no result", data={"_meta": meta})
    if "error" in response:
        raise ReplayedError(response["error"])
    return {**response["result"], "_meta": meta}


async def list_tasks(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    session = ctx.require_session()
    now = time.time()
    records = await ctx.store.all_items(session.id, NAMESPACE)
    alive = sorted((r for r in records.values() if _alive(r, now)), key=lambda r: r["created"])
    page, next_cursor = paginate(alive, params.get("cursor"), 50)
    listing: dict[str, Any] = {"tasks": [wire(record) for record in page]}
    if next_cursor:
        listing["nextCursor"] = next_cursor
    return listing


async def cancel(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    record = await _find(ctx, params)
    if record["status"] in TERMINAL:
        raise InvalidParams(f"Invalid params: the task is already {record['status']}")
    session = ctx.require_session()
    record.update(
        status="cancelled", statusMessage="cancelled by the client", lastUpdatedAt=_iso(time.time())
    )
    await ctx.store.put_item(session.id, NAMESPACE, record["taskId"], record)
    running.cancel(session.id, f"task:{record['taskId']}")
    return wire(record)
