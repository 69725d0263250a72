"""Content that stresses clients, beyond what the conformance fixtures return.

Structured results against an output schema (and one that breaks it, which a client must
catch), resource links, annotations on every kind of block, large text and many blocks. Sizes
are capped by the server's own limits (MCP_MAX_BODY_BYTES).
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings

from mcp.tools.registry import ToolResult, Toolset, text

if TYPE_CHECKING:
    from mcp.calls.context import Context

TOOLSET = Toolset("stress")
MAX_BLOCKS = 10_000
# A 1x1 transparent PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
# Multi-byte, combining, right-to-left and astral characters: what breaks naive length checks.
UNICODE_SAMPLE = "naïve café — שלום — 日本語 — e\u0301 — 🧪🚀 "

WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "temperature": {"type": "number", "description": "degrees Celsius"},
        "conditions": {"type": "string", "enum": ["sunny", "cloudy", "rain", "snow"]},
        "observedAt": {"type": "string", "format": "date-time"},
        "hourly": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "hour": {"type": "integer", "minimum": 0, "maximum": 23},
                    "t": {"type": "number"},
                },
                "required": ["hour", "t"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["city", "temperature", "conditions", "observedAt"],
    "additionalProperties": False,
}


def _now() -> str:
    return datetime.fromtimestamp(time.time(), tz=UTC).isoformat()


@TOOLSET.tool(
    "structuredOutput",
    "Return structuredContent that matches this tool's outputSchema (and the same JSON as text); "
    "with conform=false it returns structuredContent that breaks the schema, which a client that "
    "validates must reject",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 200, "default": "Lisbon"},
            "conform": {"type": "boolean", "default": True},
        },
        "additionalProperties": False,
    },
    title="Structured output",
    output_schema=WEATHER_SCHEMA,
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def structured_output(ctx: Context, args: dict[str, Any]) -> ToolResult:
    value: dict[str, Any] = {
        "city": args.get("city", "Lisbon"),
        "temperature": 21.5,
        "conditions": "sunny",
        "observedAt": _now(),
        "hourly": [{"hour": hour, "t": 18 + hour / 4} for hour in range(0, 24, 6)],
    }
    if not args.get("conform", True):
        # Wrong type, a value outside the enum, a missing required field, an unknown field.
        value["temperature"] = "warm"
        value["conditions"] = "foggy"
        del value["observedAt"]
        value["unexpected"] = True
    return ToolResult([text(orjson.dumps(value).decode())], structured=value)


# Resources this server serves (the reader finds them) and one it does not (the client must cope).
LINKS = (
    ("echo://counter", "update-counter", "text/plain"),
    ("test://static-text", "static-text", "text/plain"),
    ("calculator://constants", "constants", "application/json"),
    ("echo://missing-resource", "missing", "text/plain"),
)


@TOOLSET.tool(
    "resourceLinks",
    "Return resource_link content blocks: resources this server serves (read them with "
    "resources/read) and one that does not exist (reading it is an error)",
    title="Resource links",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def resource_links(ctx: Context, args: dict[str, Any]) -> ToolResult:
    blocks: list[dict[str, Any]] = [text(f"{len(LINKS)} resource links follow; the last one does not exist.")]
    for uri, name, mime_type in LINKS:
        blocks.append(
            {"type": "resource_link", "uri": uri, "name": name, "mimeType": mime_type, "description": name}
        )
    return ToolResult(blocks)


@TOOLSET.tool(
    "annotatedContent",
    "Return text, image, embedded resource and resource_link blocks, each with annotations "
    "(audience, priority, lastModified): a client decides what to show the user and the model",
    title="Annotated content",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def annotated_content(ctx: Context, args: dict[str, Any]) -> ToolResult:
    modified = _now()
    for_user = {"audience": ["user"], "priority": 1.0, "lastModified": modified}
    for_model = {"audience": ["assistant"], "priority": 0.2, "lastModified": modified}
    both = {"audience": ["user", "assistant"], "priority": 0.5}
    return ToolResult(
        [
            {"type": "text", "text": "For the user only (priority 1.0).", "annotations": for_user},
            {"type": "text", "text": "For the model only (priority 0.2).", "annotations": for_model},
            {"type": "image", "data": PIXEL, "mimeType": "image/png", "annotations": both},
            {
                "type": "resource",
                "resource": {"uri": "test://static-text", "mimeType": "text/plain", "text": "embedded"},
                "annotations": for_model,
            },
            {
                "type": "resource_link",
                "uri": "echo://counter",
                "name": "update-counter",
                "annotations": for_user,
            },
        ]
    )


def _limit() -> int:
    return settings.MCP_MAX_BODY_BYTES


@TOOLSET.tool(
    "largeText",
    "Return one text block of the given size in UTF-8 bytes (at most MCP_MAX_BODY_BYTES); "
    "unicode=true fills it with multi-byte, combining, right-to-left and emoji characters",
    {
        "type": "object",
        "properties": {
            "bytes": {"type": "integer", "minimum": 1, "default": 100_000},
            "unicode": {"type": "boolean", "default": False},
        },
        "additionalProperties": False,
    },
    title="Large text",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def large_text(ctx: Context, args: dict[str, Any]) -> ToolResult:
    size = int(args.get("bytes", 100_000))
    if size > _limit():
        return ToolResult.error(f"bytes is at most {_limit()} (MCP_MAX_BODY_BYTES)")
    return ToolResult([text(filler(size, unicode=bool(args.get("unicode", False))))])


def filler(size: int, *, unicode: bool = False) -> str:
    """Exactly ``size`` bytes of UTF-8 text (cut on a character boundary, padded with ASCII)."""
    unit = UNICODE_SAMPLE if unicode else "The quick brown fox jumps over the lazy dog. "
    encoded = (unit * (size // len(unit.encode()) + 1)).encode()[:size]
    body = encoded.decode("utf-8", "ignore")
    return body + "." * (size - len(body.encode()))


@TOOLSET.tool(
    "manyBlocks",
    f"Return the given number of content blocks (at most {MAX_BLOCKS}), numbered, alternating "
    "text and the other kinds when mixed=true",
    {
        "type": "object",
        "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": MAX_BLOCKS, "default": 1000},
            "mixed": {"type": "boolean", "default": False},
        },
        "additionalProperties": False,
    },
    title="Many blocks",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def many_blocks(ctx: Context, args: dict[str, Any]) -> ToolResult:
    count = int(args.get("count", 1000))
    mixed = bool(args.get("mixed", False))
    blocks: list[dict[str, Any]] = []
    for number in range(1, count + 1):
        kind = number % 3 if mixed else 0
        if kind == 1:
            blocks.append({"type": "image", "data": PIXEL, "mimeType": "image/png"})
        elif kind == 2:
            blocks.append({"type": "resource_link", "uri": "echo://counter", "name": f"link-{number}"})
        else:
            blocks.append(text(f"block {number} of {count}"))
    return ToolResult(blocks)
