"""Fixtures of the conformance suite's tasks-extension scenarios (0.2.0, ``tasks-*``), in the
conformance toolset: a sync-only tool, task-supporting tools that finish, fail, fail at the
protocol level, or wait for input, and one that gathers input before it becomes a task.

Within a session they are ordinary tools (2025-11-25 tasks where they support them); for a
2026-07-28 request that declares ``io.modelcontextprotocol/tasks`` the task-supporting ones
answer a task (``mcp.handlers.task_extension``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mcp.errors import ToolError
from mcp.tools.conformance.base import TOOLSET
from mcp.tools.conformance.modern import accepted_field, ask_for

if TYPE_CHECKING:
    from mcp.calls.context import Context

MAX_SECONDS = 300


@TOOLSET.tool(
    "greet",
    "Say hello (never a task)",
    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
)
async def greet(ctx: Context, args: dict[str, Any]) -> str:
    return f"Hello, {args['name']}!"


@TOOLSET.tool(
    "slow_compute",
    "Work for `seconds` seconds, then answer (a task when the client opted in)",
    {
        "type": "object",
        "properties": {
            "seconds": {"type": "number", "minimum": 0, "maximum": MAX_SECONDS},
            "label": {"type": "string"},
        },
        "required": ["seconds"],
    },
    task_support="optional",
)
async def slow_compute(ctx: Context, args: dict[str, Any]) -> str:
    await asyncio.sleep(args["seconds"])
    return f"Computed {args.get('label', 'result')} after {args['seconds']}s"


@TOOLSET.tool("failing_job", "A task that ends with a tool error", task_support="required")
async def failing_job(ctx: Context, args: dict[str, Any]) -> str:
    await asyncio.sleep(0.2)
    raise ToolError("failing_job failed on purpose (a tool execution error)")


class DeliberateFailure(RuntimeError):
    """A failure outside the tool's own error reporting: the task fails at the protocol level."""


@TOOLSET.tool("protocol_error_job", "A task that fails with a protocol-level error", task_support="optional")
async def protocol_error_job(ctx: Context, args: dict[str, Any]) -> str:
    await asyncio.sleep(0.1)
    raise DeliberateFailure("protocol_error_job fails on purpose")


@TOOLSET.tool(
    "confirm_delete",
    "Ask for confirmation (elicitation), then pretend to delete the file",
    {"type": "object", "properties": {"filename": {"type": "string"}}, "required": ["filename"]},
    task_support="optional",
)
async def confirm_delete(ctx: Context, args: dict[str, Any]) -> str:
    answer = await ctx.ask_client(
        *ask_for("confirm", f"Delete {args['filename']}?", "boolean"), key="confirm"
    )
    content = answer.get("content")
    if answer.get("action") == "accept" and isinstance(content, dict) and content.get("confirm") is True:
        return f"Deleted {args['filename']}"
    return f"Kept {args['filename']}"


@TOOLSET.tool("multi_input", "Ask two questions at once (two elicitations)", task_support="optional")
async def multi_input(ctx: Context, args: dict[str, Any]) -> str:
    answers = await ctx.ask_client_all(
        {"first": ask_for("value", "First value?"), "second": ask_for("value", "Second value?")}
    )
    first, second = accepted_field(answers["first"], "value"), accepted_field(answers["second"], "value")
    return f"first={first}, second={second}"


NAME_QUESTION = ask_for("name", "What is your name?")


@TOOLSET.tool(
    "test_tool_with_task",
    "Ask for a name first (input_required), then become a task that greets it",
    task_support="required",
    inputs_before_task={"user_name": NAME_QUESTION},
)
async def tool_with_task(ctx: Context, args: dict[str, Any]) -> str:
    answer = await ctx.ask_client(*NAME_QUESTION, key="user_name")
    await asyncio.sleep(0.1)
    return f"Hello, {accepted_field(answer, 'name')}, from a task"
