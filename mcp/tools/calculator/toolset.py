"""The calculator of the second seed (example-mcp-server-streamable-http), without its defects.

Same tools, resources, prompts, argument names and result texts as the seed. Differences:

- History is appended with the store's atomic ``push`` (newest 50 kept), so concurrent
  calls in one session never lose a calculation, on any process.
- Progress goes to the client's ``progressToken`` (none without one), with ``total`` and
  ``message``; never to a token the server made up.
- Division by zero and every domain error are tool errors (``isError``), not JSON-RPC
  errors; no result is ever Infinity or NaN; factorial stops at 170; a batch holds at most
  100 calculations; ``demo_progress`` takes 1 to 100 steps.
- ``calculator://history/{calculationId}`` is a real resource template, ``session://info``
  is a template that answers only for the caller's own session, and ``calculator://stats``
  says which numbers are the session's and which the server's.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mcp import figures
from mcp.errors import ResourceNotFound, ToolError
from mcp.sessions import handles
from mcp.tools.calculator import arithmetic as calc_math
from mcp.tools.calculator.arithmetic import ADVANCED_OPERATIONS, BASIC_OPERATIONS, js_number
from mcp.tools.content import PromptArgument, text_contents, user_text
from mcp.tools.registry import Tool, ToolResult, Toolset, text

if TYPE_CHECKING:
    from mcp.calls.context import Context

TOOLSET = Toolset("calculator")

HISTORY = "calculations"  # the session list holding the history
HISTORY_LIMIT = 50
BATCH_LIMIT = 100
TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
CALCULATOR_TOOLS = frozenset({"calculate", "batch_calculate", "advanced_calculate", "demo_progress"})
JSON_MIME = "application/json"
HISTORY_TEMPLATE = "calculator://history/{calculationId}"

# A calculation tool writes to the session's history: not read-only, not idempotent, harmless.
_RECORDS = {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": False}


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- SAMPLE_TOOL_NAME ------------------------------------------------------------------------


async def _sample(ctx: Context, args: dict[str, Any]) -> str:
    return f"test string print: {args['value']}"


def sample_tool(name: str) -> Tool:
    """The seed's optional educational tool, under the operator's chosen name."""
    if not TOOL_NAME.match(name):
        raise ImproperlyConfigured(
            f"SAMPLE_TOOL_NAME {name[:200]!r} is not a valid tool name: use 1 to 128 characters "
            "from A-Z, a-z, 0-9, '_', '-' and '.'"
        )
    if name in CALCULATOR_TOOLS:
        raise ImproperlyConfigured(f"SAMPLE_TOOL_NAME {name!r} clashes with the calculator tool of that name")
    return Tool(
        name,
        "Sample educational tool for learning MCP concepts",
        _sample,
        {
            "type": "object",
            "properties": {"value": {"type": "string", "description": "String value to process"}},
            "required": ["value"],
            "additionalProperties": False,
        },
        title="Sample tool",
        annotations={"readOnlyHint": True, "idempotentHint": True, "openWorldHint": False},
    )


# Registered first, as in the seed; settings are read once, when the registry is built.
if getattr(settings, "SAMPLE_TOOL_NAME", ""):
    TOOLSET.add(sample_tool(settings.SAMPLE_TOOL_NAME))


# --- History ---------------------------------------------------------------------------------


async def _remember(ctx: Context, operation: str, inputs: list[int | float], result: int | float) -> str:
    """Append one calculation to the caller's history (atomic, newest 50 kept); its id."""
    record: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "timestamp": int(time.time() * 1000),
        "operation": operation,
        "inputs": inputs,
        "result": result,
    }
    scope = await handles.scope(ctx)
    if scope is not None:
        record["sessionId"] = scope.id
        await ctx.store.push(scope.id, HISTORY, record, cap=HISTORY_LIMIT)
    figures.CALCULATIONS.labels(operation=operation).inc()
    return record["id"]


async def history(ctx: Context) -> list[dict[str, Any]]:
    """The caller's calculations, oldest first (empty without a session or a state handle)."""
    if ctx.session is None:
        return []
    return await ctx.store.items(ctx.session.id, HISTORY)


@TOOLSET.tool(
    "calculationHistory",
    "The calculations of this session (or, without a session, of the given state handle), oldest first",
    handles.with_handle({"type": "object", "properties": {}, "additionalProperties": False}),
    title="Calculation history",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def calculation_history(ctx: Context, args: dict[str, Any]) -> ToolResult:
    records = await history(ctx)
    lines = [
        f"{r['operation']}({', '.join(js_number(v) for v in r['inputs'])}) = {js_number(r['result'])}"
        for r in records
    ]
    summary = "\n".join(lines) if lines else "No calculations yet."
    return ToolResult([text(summary)], {"calculations": records})


# --- Tools -----------------------------------------------------------------------------------

_NUMBER = {"type": "number"}
_OPERAND = {
    "a": {**_NUMBER, "description": "First operand"},
    "b": {**_NUMBER, "description": "Second operand"},
}
_OP = {"type": "string", "enum": list(BASIC_OPERATIONS), "description": "Operation to perform"}


@TOOLSET.tool(
    "calculate",
    "Performs arithmetic calculations (a op b) and records them in this session's history "
    f"(the newest {HISTORY_LIMIT} are kept). Division by zero is a tool error.",
    {
        "type": "object",
        "properties": {
            **_OPERAND,
            "op": _OP,
            "stream": {
                "type": "boolean",
                "description": "Report progress while calculating (sent only with a progressToken)",
            },
            handles.ARGUMENT: handles.SCHEMA,
        },
        "required": ["a", "b", "op"],
        "additionalProperties": False,
    },
    title="Calculate",
    annotations=_RECORDS,
    output_schema={
        "type": "object",
        "properties": {
            **_OPERAND,
            "op": _OP,
            "result": _NUMBER,
            "id": {"type": "string", "description": "Read it back at calculator://history/{id}"},
        },
        "required": ["a", "b", "op", "result", "id"],
        "additionalProperties": False,
    },
)
async def calculate(ctx: Context, args: dict[str, Any]) -> ToolResult:
    a, b, op = calc_math.plain(args["a"]), calc_math.plain(args["b"]), args["op"]
    stream = bool(args.get("stream"))
    if stream:
        await ctx.progress(0.2, 1, f"Starting {op} calculation...")
        await asyncio.sleep(0.1)
        await ctx.progress(0.5, 1, f"Processing: {js_number(a)} {op} {js_number(b)}")
        await asyncio.sleep(0.1)
    result = calc_math.basic(op, a, b)
    calculation_id = await _remember(ctx, op, [a, b], result)
    if stream:
        await ctx.progress(1, 1, f"Calculation complete: {js_number(result)}")
    return ToolResult(
        [text(f"{js_number(a)} {op} {js_number(b)} = {js_number(result)}")],
        {"a": a, "b": b, "op": op, "result": result, "id": calculation_id},
    )


@TOOLSET.tool(
    "batch_calculate",
    f"Perform up to {BATCH_LIMIT} calculations in batch; each successful one is recorded in the "
    "session's history, a failed one (division by zero) is reported in its line",
    {
        "type": "object",
        "properties": {
            "calculations": {
                "type": "array",
                "maxItems": BATCH_LIMIT,
                "items": {
                    "type": "object",
                    "properties": {**_OPERAND, "op": _OP},
                    "required": ["a", "b", "op"],
                    "additionalProperties": False,
                },
                "description": "Array of calculations to perform",
            },
            "reportProgress": {
                "type": "boolean",
                "description": "Report progress during batch processing (sent only with a progressToken)",
            },
            handles.ARGUMENT: handles.SCHEMA,
        },
        "required": ["calculations"],
        "additionalProperties": False,
    },
    title="Batch calculate",
    annotations=_RECORDS,
    output_schema={
        "type": "object",
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        **_OPERAND,
                        "op": _OP,
                        "result": _NUMBER,
                        "id": {"type": "string"},
                        "error": {"type": "string"},
                    },
                    "required": ["a", "b", "op"],
                    "additionalProperties": False,
                },
            },
            "succeeded": {"type": "integer", "minimum": 0},
            "failed": {"type": "integer", "minimum": 0},
        },
        "required": ["results", "succeeded", "failed"],
        "additionalProperties": False,
    },
)
async def batch_calculate(ctx: Context, args: dict[str, Any]) -> ToolResult:
    calculations = args["calculations"]
    report = bool(args.get("reportProgress"))
    total = len(calculations)
    lines: list[str] = []
    results: list[dict[str, Any]] = []
    for index, item in enumerate(calculations, start=1):
        a, b, op = calc_math.plain(item["a"]), calc_math.plain(item["b"]), item["op"]
        expression = f"{js_number(a)} {op} {js_number(b)}"
        if report:
            await ctx.progress(index, total, f"Processing calculation {index}/{total}: {expression}")
        entry: dict[str, Any] = {"a": a, "b": b, "op": op}
        try:
            result = calc_math.basic(op, a, b)
        except ToolError as exc:
            reason = "Division by zero" if op == "divide" and b == 0 else str(exc)
            entry["error"] = reason
            lines.append(f"Error: {reason}")
        else:
            entry["result"] = result
            entry["id"] = await _remember(ctx, op, [a, b], result)
            lines.append(f"{expression} = {js_number(result)}")
        results.append(entry)
    failed = sum("error" in entry for entry in results)
    return ToolResult(
        [text("Batch calculation completed. Results:\n" + "\n".join(lines))],
        {"results": results, "succeeded": total - failed, "failed": failed},
    )


@TOOLSET.tool(
    "advanced_calculate",
    "Advanced mathematical operations: factorial (integers 0 to 170), power (base ** value: "
    "base raised to value, base required), sqrt, log (natural, or in base), sin, cos, tan "
    "(radians). Domain errors and results that are not finite are tool errors.",
    {
        "type": "object",
        "properties": {
            "operation": {
                "type": "string",
                "enum": list(ADVANCED_OPERATIONS),
                "description": "Advanced operation",
            },
            "value": {**_NUMBER, "description": "Input value (the exponent for power)"},
            "base": {**_NUMBER, "description": "Base for power or logarithm operations"},
            handles.ARGUMENT: handles.SCHEMA,
        },
        "required": ["operation", "value"],
        "additionalProperties": False,
    },
    title="Advanced calculate",
    annotations=_RECORDS,
    output_schema={
        "type": "object",
        "properties": {
            "operation": {"type": "string", "enum": list(ADVANCED_OPERATIONS)},
            "value": _NUMBER,
            "base": _NUMBER,
            "result": _NUMBER,
            "id": {"type": "string"},
        },
        "required": ["operation", "value", "result", "id"],
        "additionalProperties": False,
    },
)
async def advanced_calculate(ctx: Context, args: dict[str, Any]) -> ToolResult:
    operation, value = args["operation"], calc_math.plain(args["value"])
    base = calc_math.plain(args["base"]) if "base" in args else None
    result = calc_math.advanced(operation, value, base)
    inputs = [value] if base is None else [value, base]
    calculation_id = await _remember(ctx, operation, inputs, result)
    shown = ", ".join(js_number(number) for number in inputs)
    structured: dict[str, Any] = {
        "operation": operation,
        "value": value,
        "result": result,
        "id": calculation_id,
    }
    if base is not None:
        structured["base"] = base
    return ToolResult([text(f"{operation}({shown}) = {js_number(result)}")], structured)


@TOOLSET.tool(
    "demo_progress",
    "Demonstrate progress notifications: steps+1 notifications (0/steps to steps/steps), "
    "200 ms apart, on the client's progressToken",
    {
        "type": "object",
        "properties": {
            "steps": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "default": 5,
                "description": "Number of progress steps",
            }
        },
        "additionalProperties": False,
    },
    title="Progress demonstration",
    annotations={"readOnlyHint": True, "openWorldHint": False},
    task_support="optional",
)
async def demo_progress(ctx: Context, args: dict[str, Any]) -> str:
    steps = args.get("steps", 5)
    for step in range(steps + 1):
        await ctx.progress(step, steps, f"Step {step}/{steps} completed")
        await asyncio.sleep(0.2)
    return f"Progress demonstration completed with {steps} steps"


# --- Resources -------------------------------------------------------------------------------


@TOOLSET.resource(
    "calculator://constants",
    "calculator-constants",
    title="Calculator Constants",
    description="Mathematical constants",
    mime_type=JSON_MIME,
)
async def read_constants(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
    return text_contents(uri, _pretty(calc_math.CONSTANTS), JSON_MIME)


@TOOLSET.template(
    HISTORY_TEMPLATE,
    "calculation-history",
    title="Calculation History",
    description="One calculation from this session's history, by the id its tool returned",
    mime_type=JSON_MIME,
)
async def read_calculation(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
    calculation_id = params["calculationId"]
    for record in await history(ctx):
        if record.get("id") == calculation_id:
            return text_contents(uri, _pretty(record), JSON_MIME)
    raise ResourceNotFound(f"Calculation {calculation_id[:200]} not found", data={"uri": uri[:200]})


@TOOLSET.resource(
    "calculator://stats",
    "calculator-stats",
    title="Calculator Statistics",
    description="Calculations in this session's history by operation (scope: session), and live "
    "sessions in the session store (scope: server)",
    mime_type=JSON_MIME,
)
async def read_stats(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
    records = await history(ctx)
    counts = Counter(record.get("operation") for record in records)
    store = await ctx.store.stats()
    stats = {
        "totalCalculations": len(records),
        "activeSessions": store.active,
        "operationBreakdown": [
            {"operation": operation, "count": count} for operation, count in sorted(counts.items())
        ],
        "scope": {
            "totalCalculations": "session",
            "operationBreakdown": "session",
            "activeSessions": "server",
        },
        "notes": {
            "session": f"counted from this session's history, which keeps its newest {HISTORY_LIMIT} "
            "calculations",
            "server": f"live sessions in the {ctx.store.backend} session store, shared by every process "
            "that uses it",
        },
    }
    return text_contents(uri, _pretty(stats), JSON_MIME)


@TOOLSET.template(
    "session://info/{sessionId}",
    "session-info",
    title="Session Information",
    description="Details of your own session (any other session id is not found)",
    mime_type=JSON_MIME,
)
async def read_session_info(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
    session = ctx.session
    if session is None or not hmac.compare_digest(params["sessionId"].encode(), session.id.encode()):
        raise ResourceNotFound(f"Resource not found: {uri[:200]}", data={"uri": uri[:200]})
    now = time.time()
    info = {
        "sessionId": session.id,
        "startTime": _iso(session.created),
        "lastActivity": _iso(session.last_activity),
        "requestCount": session.requests,
        "calculationCount": len(await history(ctx)),
        "uptime": int((now - session.created) * 1000),
    }
    return text_contents(uri, _pretty(info), JSON_MIME)


@TOOLSET.resource(
    "formulas://library",
    "formulas-library",
    title="Formula Library",
    description="Mathematical formulas",
    mime_type=JSON_MIME,
)
async def read_formulas(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
    return text_contents(uri, _pretty(calc_math.FORMULAS), JSON_MIME)


# --- Prompts ---------------------------------------------------------------------------------


@TOOLSET.prompt(
    "explain-calculation",
    "Explain how to perform a calculation step by step",
    (
        PromptArgument("operation", "The calculation to explain", required=True),
        PromptArgument("level", "Explanation level: basic, intermediate, advanced"),
    ),
    title="Explain Calculation",
)
async def explain_calculation(ctx: Context, args: dict[str, str]) -> list[dict[str, Any]]:
    level = args.get("level") or "basic"
    return [
        user_text(
            f"Please explain how to {args['operation']} step by step at a {level} level. "
            "Include examples and common mistakes to avoid."
        )
    ]


@TOOLSET.prompt(
    "generate-problems",
    "Generate math practice problems",
    (
        PromptArgument("topic", 'Math topic (e.g., "fractions", "algebra", "geometry")', required=True),
        PromptArgument("difficulty", "Difficulty level: easy, medium, hard", required=True),
        PromptArgument("count", "Number of problems to generate", required=True),
    ),
    title="Generate Practice Problems",
)
async def generate_problems(ctx: Context, args: dict[str, str]) -> list[dict[str, Any]]:
    return [
        user_text(
            f"Generate {args['count']} {args['difficulty']}-level practice problems for {args['topic']}. "
            "Include solutions and explanations."
        )
    ]


@TOOLSET.prompt(
    "solve_math_problem",
    "Step-by-step problem solving",
    (
        PromptArgument("problem", "The problem to solve", required=True),
        PromptArgument("showWork", 'Show detailed work: "true" or "false"'),
    ),
    title="Solve Math Problem",
)
async def solve_math_problem(ctx: Context, args: dict[str, str]) -> list[dict[str, Any]]:
    how = (
        "Show all work and explain each step." if args.get("showWork") == "true" else "Provide the solution."
    )
    return [user_text(f"Solve this problem: {args['problem']}. {how}")]


@TOOLSET.prompt(
    "explain_formula",
    "Detailed formula explanation",
    (
        PromptArgument("formula", "The formula to explain", required=True),
        PromptArgument("context", "Application context"),
    ),
    title="Explain Formula",
)
async def explain_formula(ctx: Context, args: dict[str, str]) -> list[dict[str, Any]]:
    where = f" in the context of {args['context']}" if args.get("context") else ""
    return [
        user_text(
            f'Explain the formula "{args["formula"]}"{where}. '
            "Include what each variable represents and when to use this formula."
        )
    ]


@TOOLSET.prompt(
    "calculator_assistant",
    "General calculation assistance",
    (PromptArgument("query", "What you need help calculating", required=True),),
    title="Calculator Assistant",
)
async def calculator_assistant(ctx: Context, args: dict[str, str]) -> list[dict[str, Any]]:
    return [
        user_text(
            f"I need help with this calculation: {args['query']}. Please provide step-by-step guidance."
        )
    ]


# --- Completions -----------------------------------------------------------------------------

LEVELS = ("basic", "intermediate", "advanced")


def _starting(values: list[str] | tuple[str, ...], prefix: str) -> list[str]:
    prefix = prefix.lower()
    return [value for value in values if value.lower().startswith(prefix)]


@TOOLSET.completion("ref/prompt", "explain-calculation")
async def complete_explain(ctx: Context, argument: str, value: str, context: dict[str, str]) -> list[str]:
    if argument == "operation":
        return _starting(BASIC_OPERATIONS + ADVANCED_OPERATIONS, value)
    if argument == "level":
        return _starting(LEVELS, value)
    return []


@TOOLSET.completion("ref/resource", HISTORY_TEMPLATE)
async def complete_calculation_id(
    ctx: Context, argument: str, value: str, context: dict[str, str]
) -> list[str]:
    if argument != "calculationId":
        return []
    newest_first = [record["id"] for record in reversed(await history(ctx)) if "id" in record]
    return [calculation_id for calculation_id in newest_first if calculation_id.startswith(value)]
