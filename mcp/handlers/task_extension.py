"""The tasks extension (``io.modelcontextprotocol/tasks``) for 2026-07-28 requests.

A request that declares the extension in ``_meta`` clientCapabilities gets a task for every
``tools/call`` of a task-supporting tool: the call answers a flat ``CreateTaskResult`` at once
(``resultType: "task"``) and the tool runs in the background. ``tasks/get`` answers the task
with its result or error inlined once it ends, and the ``inputRequests`` it waits for while
``input_required``; ``tasks/update`` delivers ``inputResponses`` (one at a time is fine);
``tasks/cancel`` stops it. Without the extension a task-supporting tool runs synchronously,
and one that requires a task, or a ``tasks/*`` method, is refused with -32021.

A task is a record in the session store (protocol version 2026-07-28) whose id is the task
id, so it has a session's guarantees: unguessable, bound to the principal that created it
(another caller's task id is unknown, -32602), expiring after ``MCP_SESSION_TIMEOUT`` idle
seconds, readable from every process in Redis mode. Pending input requests and the answers
to them are per-key items of that record, so concurrent partial updates never lose one.
The tool runs in the process that created the task; a cancel from any process marks the
record and a late result is discarded. The session era's tasks (``mcp.handlers.tasks``) are unchanged.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp import figures
from mcp.calls import running
from mcp.calls.context import Context
from mcp.calls.inputs import Inputs
from mcp.errors import InvalidParams, MissingClientCapability, SessionNotFound, internal_error, message_for
from mcp.handlers import methods as handlers
from mcp.sessions import operations as sessions
from mcp.sessions import records
from mcp.wire.meta import TASKS_EXTENSION

if TYPE_CHECKING:
    from mcp.store import Session
    from mcp.tools import Tool

TERMINAL = frozenset({"completed", "failed", "cancelled"})
POLL_INTERVAL_MS = 500
# How often a task waiting for input looks for the client's answers (any process may store them).
ANSWER_POLL = 0.1
STATE, PENDING, ANSWERS = "task", "task-pending", "task-answers"
RUNNING_KEY = "task"
REQUIRED = {"extensions": {TASKS_EXTENSION: {}}}


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


def declared(ctx: Context) -> bool:
    extensions = ctx.modern.capabilities.get("extensions") if ctx.modern is not None else None
    return isinstance(extensions, dict) and isinstance(extensions.get(TASKS_EXTENSION), dict)


def _require_extension(ctx: Context) -> None:
    if not declared(ctx):
        raise MissingClientCapability(TASKS_EXTENSION, required=REQUIRED)


def _envelope(task_id: str, state: dict[str, Any]) -> dict[str, Any]:
    task = {"taskId": task_id, **{k: state[k] for k in ("status", "createdAt", "lastUpdatedAt")}}
    task.update(ttlMs=settings.MCP_SESSION_TIMEOUT * 1000, pollIntervalMs=POLL_INTERVAL_MS)
    if state.get("statusMessage"):
        task["statusMessage"] = state["statusMessage"]
    return task


async def _set_state(ctx: Context, task_id: str, **changes: Any) -> dict[str, Any] | None:
    """Apply ``changes`` unless the task ended meanwhile; the new state (None if it had ended)."""
    record = await ctx.store.get(task_id, touch=False)
    current = record.state.get(STATE) if record is not None else None
    if not isinstance(current, dict) or current["status"] in TERMINAL:
        return None
    current = {**current, **changes, "lastUpdatedAt": _iso(time.time())}
    await ctx.store.set_state(task_id, STATE, current)
    return current


# --- tools/call ----------------------------------------------------------------------------------


async def call_tool(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """tools/call in the stateless era: a task when the tool supports one and the client opted in."""
    tool = handlers.find_tool(ctx, params)
    params = {key: value for key, value in params.items() if key != "task"}  # a v1 hint: ignored
    if tool.task_support == "forbidden":
        return await handlers.run_tool(ctx, tool, params)
    if not declared(ctx):
        if tool.task_support == "required":
            raise MissingClientCapability(TASKS_EXTENSION, required=REQUIRED)
        return await handlers.run_tool(ctx, tool, params)
    answers: dict[str, Any] = {}
    if tool.inputs_before_task and ctx.inputs is not None:
        answers = await ctx.inputs.ask_all(dict(tool.inputs_before_task))
    return await start(ctx, tool, params, answers)


async def start(ctx: Context, tool: Tool, params: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Create the task durably, start the tool in the background, answer CreateTaskResult."""
    assert ctx.modern is not None
    record = await records.create_record(
        ctx,
        kind=figures.TASK,
        protocol_version=settings.MODERN_PROTOCOL_VERSION,
        client_info=ctx.modern.client_info,
        client_capabilities=ctx.modern.capabilities,
    )
    now = _iso(time.time())
    state = {"status": "working", "createdAt": now, "lastUpdatedAt": now, "tool": tool.name}
    await ctx.store.set_state(record.id, STATE, state)
    background = Context(request=ctx.request, session=None, store=ctx.store, bus=ctx.bus, meta=ctx.meta)
    background.modern = ctx.modern
    background.inputs = TaskInputs(record.id, ctx, answers)
    runner = asyncio.get_running_loop().create_task(
        _run(background, tool, params, record.id), context=contextvars.Context()
    )
    running.track(record.id, RUNNING_KEY, runner)
    return {"resultType": "task", **_envelope(record.id, state)}


async def _run(ctx: Context, tool: Tool, params: dict[str, Any], task_id: str) -> None:
    try:
        result = await handlers.run_tool(ctx, tool, params)
        outcome: dict[str, Any] = {"status": "completed", "result": result}
    except asyncio.CancelledError:
        return  # cancelled: tasks/cancel has recorded it
    except Exception as exc:
        error = message_for(None, internal_error(exc, f"task {task_id}"))["error"]
        outcome = {"status": "failed", "error": error}
    await _set_state(ctx, task_id, **outcome)


class TaskInputs(Inputs):
    """Input for a running task: asking parks it ``input_required`` until tasks/update answers."""

    def __init__(self, task_id: str, origin: Context, answers: dict[str, Any]) -> None:
        assert origin.modern is not None
        super().__init__("task", origin.request.principal, origin.modern.capabilities, answers=dict(answers))
        self.task_id = task_id
        self.store = origin.store

    async def ask_all(
        self, requests: dict[str, tuple[str, dict[str, Any] | None]]
    ) -> dict[str, dict[str, Any]]:
        wanted = {key: self._request(key, method, params) for key, (method, params) in requests.items()}
        answered = {key: self.answers[key] for key in wanted if isinstance(self.answers.get(key), dict)}
        missing = {key: request for key, request in wanted.items() if key not in answered}
        if not missing:
            return answered
        for key, request in missing.items():
            await self.store.put_item(self.task_id, PENDING, key, request)
        await self._status("input_required")
        while True:
            stored = await self.store.all_items(self.task_id, ANSWERS)
            answered.update({key: stored[key] for key in missing if isinstance(stored.get(key), dict)})
            if len(answered) == len(wanted):
                break
            await asyncio.sleep(ANSWER_POLL)
        self.answers.update(answered)
        await self._status("working")
        return answered

    async def ask(self, key: str, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        return (await self.ask_all({key: (method, params)}))[key]

    def _request(self, key: str, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        self.take(key, method, params)  # the capability check, as for any input request
        self.asked.pop(key, None)
        return {"method": method, **({"params": params} if params is not None else {})}

    async def _status(self, status: str) -> None:
        record = await self.store.get(self.task_id, touch=False)
        state = record.state.get(STATE) if record is not None else None
        if isinstance(state, dict) and state["status"] not in TERMINAL:
            state = {**state, "status": status, "lastUpdatedAt": _iso(time.time())}
            await self.store.set_state(self.task_id, STATE, state)


# --- tasks/get, tasks/update, tasks/cancel ---------------------------------------------------------


async def _find(ctx: Context, params: dict[str, Any]) -> tuple[Session, dict[str, Any]]:
    _require_extension(ctx)
    task_id = params.get("taskId")
    record = None
    if isinstance(task_id, str) and 0 < len(task_id) <= 128:
        try:
            record = await sessions.owned(
                task_id, ctx.request.principal, ctx.store, echo_id=False, stateless=True
            )
        except SessionNotFound:
            record = None
    state = record.state.get(STATE) if record is not None else None
    if record is None or not isinstance(state, dict):
        raise InvalidParams("Invalid params: unknown taskId")
    return record, state


async def get(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """The task (DetailedTask): result or error inlined once it ended, pending input if any."""
    record, state = await _find(ctx, params)
    task = _envelope(record.id, state)
    for key in ("result", "error"):
        if key in state:
            task[key] = state[key]
    if state["status"] == "input_required":
        task["inputRequests"] = await ctx.store.all_items(record.id, PENDING)
    return task


async def update(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Deliver answers to pending input requests (unknown keys are ignored); an empty ack."""
    record, _ = await _find(ctx, params)
    responses = params.get("inputResponses")
    if not isinstance(responses, dict):
        raise InvalidParams("Invalid params: inputResponses must be an object")
    pending = await ctx.store.all_items(record.id, PENDING)
    for key, answer in responses.items():
        if key in pending and isinstance(answer, dict):
            await ctx.store.put_item(record.id, ANSWERS, key, answer)
            await ctx.store.delete_item(record.id, PENDING, key)
    return {}


async def cancel(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Stop the task (idempotent on an ended one); an empty ack, the status shows on tasks/get."""
    record, _ = await _find(ctx, params)
    if await _set_state(ctx, record.id, status="cancelled", statusMessage="cancelled by the client"):
        running.cancel(record.id, RUNNING_KEY)
    return {}
