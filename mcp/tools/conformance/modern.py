"""Fixtures the 2026-07-28 scenarios of the conformance suite (0.2.0) call, in the conformance
toolset: multi round-trip tools and prompt (``test_input_required_result_*``), capability and
logging probes, list-change triggers for ``subscriptions/listen``, and a tool whose parameter
travels in an ``Mcp-Param-*`` header.

They are written once for both eras: ``ctx.ask_client`` sends a real request within a session
and becomes an ``InputRequiredResult`` without one (``mcp.calls.inputs``). Names, keys and texts are
the ones the suite and its reference server use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.errors import ToolError
from mcp.sessions import listen
from mcp.tools.conformance.base import TOOLSET, sampled_text
from mcp.tools.content import user_text
from mcp.wire import jsonrpc

if TYPE_CHECKING:
    from mcp.calls.context import Context


def ask_for(field: str, message: str, kind: str = "string") -> tuple[str, dict[str, Any]]:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return "elicitation/create", {"message": message, "requestedSchema": schema}


def _sampling(prompt: str, max_tokens: int) -> tuple[str, dict[str, Any]]:
    messages = [{"role": "user", "content": {"type": "text", "text": prompt}}]
    return "sampling/createMessage", {"messages": messages, "maxTokens": max_tokens}


ROOTS: tuple[str, dict[str, Any]] = ("roots/list", {})


def accepted_field(answer: dict[str, Any], field: str) -> str:
    """One field of an accepted elicitation; a tool error for a refusal."""
    if answer.get("action") != "accept":
        raise ToolError(f"the user did not accept (action {answer.get('action')!r})")
    content = answer.get("content")
    value = content.get(field) if isinstance(content, dict) else None
    return value if isinstance(value, str) else jsonrpc.encode(value).decode()


def _roots(answer: dict[str, Any]) -> list[Any]:
    roots = answer.get("roots")
    return roots if isinstance(roots, list) else []


async def _ask(ctx: Context, key: str, request: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return await ctx.ask_client(request[0], request[1], key=key)


@TOOLSET.tool("test_input_required_result_elicitation", "Ask the user's name (elicitation), then greet them")
async def mrtr_elicitation(ctx: Context, args: dict[str, Any]) -> str:
    answer = await _ask(ctx, "user_name", ask_for("name", "What is your name?"))
    return f"Hello, {accepted_field(answer, 'name')}!"


@TOOLSET.tool(
    "test_input_required_result_sampling", "Ask the client's LLM a question (sampling) and return it"
)
async def mrtr_sampling(ctx: Context, args: dict[str, Any]) -> str:
    answer = await _ask(ctx, "sample_request", _sampling("What is the capital of France?", 100))
    return f"Sampling result: {sampled_text(answer)}"


@TOOLSET.tool("test_input_required_result_list_roots", "Ask the client for its roots (roots/list)")
async def mrtr_list_roots(ctx: Context, args: dict[str, Any]) -> str:
    return f"Found {len(_roots(await _ask(ctx, 'roots_request', ROOTS)))} root(s)"


@TOOLSET.tool(
    "test_input_required_result_request_state",
    "Ask for a confirmation; the answer comes back with the (signed) requestState",
)
async def mrtr_request_state(ctx: Context, args: dict[str, Any]) -> str:
    answer = await _ask(ctx, "confirm", ask_for("ok", "Please confirm", "boolean"))
    content = answer.get("content")
    if answer.get("action") == "accept" and isinstance(content, dict) and content.get("ok") is True:
        return "state-ok: requestState validated"
    return "state-declined: the user did not confirm"


@TOOLSET.tool(
    "test_input_required_result_multiple_inputs",
    "Ask for a name (elicitation), a greeting (sampling) and the roots at once",
)
async def mrtr_multiple_inputs(ctx: Context, args: dict[str, Any]) -> str:
    answers = await ctx.ask_client_all(
        {
            "user_name": ask_for("name", "What is your name?"),
            "greeting": _sampling("Generate a greeting", 50),
            "client_roots": ROOTS,
        }
    )
    name = accepted_field(answers["user_name"], "name")
    greeting = sampled_text(answers["greeting"])
    return f"Name: {name}; Greeting: {greeting}; Roots: {len(_roots(answers['client_roots']))}"


@TOOLSET.tool("test_input_required_result_multi_round", "Ask two questions, one round after the other")
async def mrtr_multi_round(ctx: Context, args: dict[str, Any]) -> str:
    name = accepted_field(await _ask(ctx, "step1", ask_for("name", "Step 1: What is your name?")), "name")
    color = accepted_field(
        await _ask(ctx, "step2", ask_for("color", "Step 2: What is your favorite color?")), "color"
    )
    return f"Multi-round complete for {name} who likes {color}"


@TOOLSET.tool(
    "test_input_required_result_tampered_state",
    "Ask for a confirmation; a retry with an altered requestState is refused (-32602)",
)
async def mrtr_tampered_state(ctx: Context, args: dict[str, Any]) -> str:
    await _ask(ctx, "confirm", ask_for("ok", "Please confirm", "boolean"))
    return "integrity-ok: state verified"


@TOOLSET.tool(
    "test_input_required_result_capabilities",
    "Ask for input only through the capabilities the client declared (elicitation, sampling)",
)
async def mrtr_capabilities(ctx: Context, args: dict[str, Any]) -> str:
    wanted: dict[str, tuple[str, dict[str, Any] | None]] = {}
    if ctx.client_declared("elicitation"):
        wanted["elicit_input"] = ask_for("value", "Elicitation input")
    if ctx.client_declared("sampling"):
        wanted["sample_input"] = _sampling("Sample request", 50)
    if not wanted:
        return "No supported capabilities declared"
    answers = await ctx.ask_client_all(wanted)
    return f"capabilities-ok: received {','.join(answers)}"


@TOOLSET.tool("test_missing_capability", "Needs the client's sampling capability; says Success when declared")
async def missing_capability(ctx: Context, args: dict[str, Any]) -> str:
    ctx.require_capability("sampling")
    return "Success"


@TOOLSET.tool(
    "test_streaming_elicitation",
    "Report progress, then ask for a confirmation (never a server request on a 2026-07-28 stream)",
)
async def streaming_elicitation(ctx: Context, args: dict[str, Any]) -> str:
    await ctx.progress(50, 100, "asking for confirmation")
    answer = await _ask(ctx, "stream_confirm", ask_for("ok", "Continue?", "boolean"))
    return f"Streaming complete (action {answer.get('action')})"


@TOOLSET.tool(
    "test_logging_tool",
    "Log at info level: sent only when logging is on (a session's setLevel, or _meta logLevel)",
)
async def logging_tool(ctx: Context, args: dict[str, Any]) -> str:
    sent = await ctx.log("info", "Diagnostic trace logging activated", "conformance")
    return f"Logging evaluated ({'a message was sent' if sent else 'no message: logging is off'})"


async def _list_changed(ctx: Context, kind: str) -> str:
    method = f"notifications/{kind}/list_changed"
    await ctx.send_to_session(jsonrpc.notification(method))
    await listen.announce_list_changed(kind)
    return f"Mutation triggered: {method} sent"


@TOOLSET.tool(
    "test_trigger_tool_change", "Announce a tools list change (subscriptions/listen, the session stream)"
)
async def trigger_tool_change(ctx: Context, args: dict[str, Any]) -> str:
    return await _list_changed(ctx, "tools")


@TOOLSET.tool(
    "test_trigger_prompt_change", "Announce a prompts list change (subscriptions/listen, the session stream)"
)
async def trigger_prompt_change(ctx: Context, args: dict[str, Any]) -> str:
    return await _list_changed(ctx, "prompts")


@TOOLSET.tool(
    "test_custom_headers",
    "Echo a region that 2026-07-28 clients also send in the Mcp-Param-Region header",
    {
        "type": "object",
        "properties": {
            "region": {"type": "string", "description": "Any region name", "x-mcp-header": "Region"}
        },
        "required": ["region"],
    },
)
async def custom_headers(ctx: Context, args: dict[str, Any]) -> str:
    return f"Region: {args['region']}"


@TOOLSET.prompt(
    "test_input_required_result_prompt", "A prompt that first asks the user for context (elicitation)"
)
async def mrtr_prompt(ctx: Context, arguments: dict[str, str]) -> list[dict[str, Any]]:
    answer = await _ask(ctx, "user_context", ask_for("context", "What context should the prompt use?"))
    return [user_text(f"Prompt with context: {accepted_field(answer, 'context')}")]
