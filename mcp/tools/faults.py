"""Fault injection for the caller's own session: set, report and clear its fault profile, and
export its recorded traffic (HAR 1.2, JSON lines).

The profile is described in README "Test your client" and validated by
``mcp.faults.profile.SCHEMA``; the transport applies it to the session's exchanges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from mcp.errors import ToolError
from mcp.faults import state
from mcp.faults.draws import sequence, summary
from mcp.faults.profile import PROPERTIES, ProfileError, normalize
from mcp.tools.registry import ToolResult, Toolset, text
from mcp.traffic import export as traffic_export

if TYPE_CHECKING:
    from mcp.calls.context import Context

TOOLSET = Toolset("faults")
MAX_PREVIEW = 50

SET_FAULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **PROPERTIES,
        "clear": {
            "type": "boolean",
            "default": False,
            "description": "Remove this session's profile (MCP_FAULTS then no longer applies either)",
        },
        "preview": {
            "type": "integer",
            "minimum": 0,
            "maximum": MAX_PREVIEW,
            "default": 0,
            "description": "Also list the faults of the first N requests after the profile was set",
        },
    },
    "additionalProperties": False,
}
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "source": {"type": "string", "enum": ["session", "cleared", "server", "none"]},
        "profile": {"type": ["object", "null"]},
        "preview": {"type": "array", "items": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["source", "profile"],
}


@TOOLSET.tool(
    "setFaults",
    "Set, report or clear the fault profile of this session (seeded: the same seed gives the same "
    "faults in the same order): latency, tool errors, HTTP 500/503, 401, expiry, dropped or "
    "duplicated stream events, keep-alives, list_changed bursts, oversized results. Called with "
    "no fault fields it only reports the profile in force.",
    SET_FAULTS_SCHEMA,
    title="Set fault profile",
    output_schema=OUTPUT_SCHEMA,
    annotations={"readOnlyHint": False, "idempotentHint": True, "openWorldHint": False},
)
async def set_faults(ctx: Context, args: dict[str, Any]) -> ToolResult:
    session = ctx.session
    if session is None:
        raise ToolError(f"setFaults needs a session; without one, send the {state.HEADER} header")
    fields = {name: value for name, value in args.items() if name in PROPERTIES}
    if args.get("clear"):
        if fields:
            raise ToolError("clear: true takes no fault fields")
        await state.set_profile(ctx.store, session, None)
    elif fields:
        try:
            profile = normalize(fields, max_bytes=state.max_bytes())
        except ProfileError as exc:
            raise ToolError(f"invalid fault profile: {exc}") from None
        await state.set_profile(ctx.store, session, profile)
    profile, source = state.in_force(session)
    report: dict[str, Any] = {"source": source, "profile": profile}
    lines = [f"Fault profile in force ({source}):", orjson.dumps(profile).decode() if profile else "none"]
    count = int(args.get("preview", 0))
    if count and profile:
        report["preview"] = [summary(found) for found in sequence(profile, count)]
        lines.append(f"The first {count} requests after the profile was set:")
        lines += [f"  {n}: {', '.join(kinds) or '-'}" for n, kinds in enumerate(report["preview"], 1)]
    return ToolResult([text("\n".join(lines))], structured=report)


@TOOLSET.tool(
    "exportTraffic",
    "This session's recorded traffic (the record the admin shows) as HAR 1.2, which browser "
    "developer tools and HTTP debuggers open, or as JSON lines; each request with its header "
    "verdicts and injected faults; credentials masked as printHeader masks them",
    {
        "type": "object",
        "properties": {"format": {"type": "string", "enum": list(traffic_export.FORMATS), "default": "har"}},
        "additionalProperties": False,
    },
    title="Export traffic",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def export_traffic(ctx: Context, args: dict[str, Any]) -> ToolResult:
    session = ctx.require_session()
    fmt = args.get("format", "har")
    content_type, body = await traffic_export.export(ctx.store, session, fmt)
    uri = f"traffic://{traffic_export.filename(session, fmt)}"
    return ToolResult(
        [{"type": "resource", "resource": {"uri": uri, "mimeType": content_type, "text": body}}]
    )
