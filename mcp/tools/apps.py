"""MCP Apps (SEP-1865, ``io.modelcontextprotocol/ui``): views that test the host rendering them.

Two ``ui://`` views (self-contained HTML in templates/apps/, ``text/html;profile=mcp-app``, with
their CSP declared in ``_meta.ui``) and the tools that open them:

- ``appProbe`` opens ``ui://echo/app-probe``, which performs the handshake, shows what the host
  gave it and exercises each view-to-host request;
- ``appHostile`` opens ``ui://echo/app-hostile``, which misbehaves in bounded ways (oversized,
  an undeclared CSP need, a message from a frame the host did not create);
- ``appProbeReport`` (visible to views only) is how both report each observation: through the
  host's ``tools/call``, so every one lands in the session's traffic record, and the session
  keeps them to answer with the verdict so far: which parts of the extension the host honoured.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from django.template.loader import get_template

from mcp.tools import enabled_toolset_names
from mcp.tools.registry import ToolResult, Toolset, text

if TYPE_CHECKING:
    from mcp.calls.context import Context

EXTENSION = "io.modelcontextprotocol/ui"
MIME_TYPE = "text/html;profile=mcp-app"
PROBE_URI = "ui://echo/app-probe"
HOSTILE_URI = "ui://echo/app-hostile"
REPORTS = "apps_probe"
REPORTS_KEPT = 200
TOOLSET = Toolset("apps")

# What each check's "ok" means, in the order a report shows them (README: "Test your Apps host").
CHECKS: dict[str, str] = {
    "handshake": "answered ui/initialize with protocolVersion, hostInfo, hostCapabilities, hostContext",
    "host-context": "gave a host context (theme, display mode, container, locale, platform, styles)",
    "tool-input": "sent ui/notifications/tool-input after the handshake",
    "tool-result": "sent ui/notifications/tool-result after the handshake",
    "tools/call": "forwarded the view's tools/call to the server and returned the answer",
    "ui/message": "answered ui/message without an error",
    "ui/open-link": "answered ui/open-link without an error",
    "ui/request-display-mode": "answered ui/request-display-mode with the mode it granted",
    "ui/update-model-context": "answered ui/update-model-context",
    "size-changed": "resized the frame to the height the view asked for",
    "logging": "received notifications/message (sent; the protocol defines no answer)",
    "sandbox-size": "kept an oversized view within its own maximum height",
    "sandbox-csp": "blocked a fetch and an image the view's CSP metadata did not declare",
    "sandbox-source": "ignored a tools/call posted by a frame it did not create",
    "sandbox-foreign-call": "(never ok) a foreign frame's tools/call reached the server",
}
OUTCOMES = ["ok", "failed", "absent", "sent"]


def extensions() -> dict[str, Any]:
    """The extension as capabilities.extensions states it (nothing when the toolset is off)."""
    return {EXTENSION: {"mimeTypes": [MIME_TYPE]}} if TOOLSET.name in enabled_toolset_names() else {}


@cache
def view_html(name: str) -> str:
    return get_template(f"apps/{name}.html").template.source


def _view(uri: str, template: str, csp: dict[str, list[str]]) -> Any:
    meta = {"ui": {"csp": csp, "prefersBorder": True}}

    async def read(ctx: Context, requested: str, params: dict[str, str]) -> list[dict[str, Any]]:
        return [{"uri": uri, "mimeType": MIME_TYPE, "text": view_html(template), "_meta": meta}]

    return read, meta


_probe_read, _probe_meta = _view(PROBE_URI, "app_probe", {"connectDomains": [], "resourceDomains": []})
_hostile_read, _hostile_meta = _view(HOSTILE_URI, "hostile", {"connectDomains": [], "resourceDomains": []})
TOOLSET.resource(
    PROBE_URI,
    "app-probe",
    title="MCP Apps host probe",
    description="Performs the Apps handshake and reports which parts of the extension the host honoured",
    mime_type=MIME_TYPE,
    meta=_probe_meta,
)(_probe_read)
TOOLSET.resource(
    HOSTILE_URI,
    "app-hostile",
    title="MCP Apps sandbox probe",
    description="A bounded-hostile view: oversized, an undeclared CSP need, a foreign frame's tools/call",
    mime_type=MIME_TYPE,
    meta=_hostile_meta,
)(_hostile_read)


@TOOLSET.tool(
    "appProbe",
    "Open the MCP Apps host probe: a view that tests the host rendering it and reports a verdict "
    "(hosts without MCP Apps see this text only)",
    {
        "type": "object",
        "properties": {
            "exercise": {
                "type": "string",
                "enum": ["safe", "all", "none"],
                "default": "safe",
                "description": "Which requests the view tries by itself: 'safe' leaves out ui/message and "
                "ui/open-link (they act in the user's conversation), 'all' tries every one",
            }
        },
        "additionalProperties": False,
    },
    title="MCP Apps host probe",
    annotations={"readOnlyHint": True, "openWorldHint": False},
    meta={"ui": {"resourceUri": PROBE_URI, "visibility": ["model", "app"]}, "ui/resourceUri": PROBE_URI},
)
async def app_probe(ctx: Context, args: dict[str, Any]) -> ToolResult:
    exercise = args.get("exercise", "safe")
    return ToolResult(
        [text(f"The appProbe view ({PROBE_URI}) tests this host with the '{exercise}' set of requests.")],
        structured={"view": PROBE_URI, "exercise": exercise},
    )


@TOOLSET.tool(
    "appHostile",
    "Open a bounded-hostile MCP Apps view (oversized, an undeclared CSP need, a foreign frame's "
    "tools/call) for a host to prove its sandbox",
    title="MCP Apps sandbox probe",
    annotations={"readOnlyHint": True, "openWorldHint": False},
    meta={"ui": {"resourceUri": HOSTILE_URI, "visibility": ["model", "app"]}, "ui/resourceUri": HOSTILE_URI},
)
async def app_hostile(ctx: Context, args: dict[str, Any]) -> ToolResult:
    return ToolResult(
        [text(f"The appHostile view ({HOSTILE_URI}) reports what the host let through.")],
        structured={"view": HOSTILE_URI},
    )


@TOOLSET.tool(
    "appProbeReport",
    "How the appProbe and appHostile views report one observation of their host (called by the "
    "views through the host); answers with the verdict so far",
    {
        "type": "object",
        "properties": {
            "probe": {"type": "string", "maxLength": 64},
            "check": {"type": "string", "maxLength": 64},
            "outcome": {"type": "string", "enum": OUTCOMES},
            "ms": {"type": "number", "minimum": 0},
            "detail": {"type": "string", "maxLength": 1000},
        },
        "required": ["probe", "check", "outcome"],
        "additionalProperties": False,
    },
    title="MCP Apps probe report",
    annotations={"readOnlyHint": False, "openWorldHint": False},
    meta={"ui": {"visibility": ["app"]}},
)
async def app_probe_report(ctx: Context, args: dict[str, Any]) -> ToolResult:
    observation = {key: args[key] for key in ("probe", "check", "outcome", "ms", "detail") if key in args}
    kept = ctx.session is not None
    if kept:
        await ctx.store.push(ctx.session.id, REPORTS, observation, cap=REPORTS_KEPT)
        history = await ctx.store.items(ctx.session.id, REPORTS)
    else:
        history = [observation]
    verdict = summarize(args["probe"], history)
    lines = [f"{args['check']}: {args['outcome']}"]
    if args["check"] == "done":
        lines = report_lines(verdict)
    if not kept:
        lines.append("(no session: observations are not kept between calls)")
    return ToolResult([text("\n".join(lines))], structured={"probe": args["probe"], "verdict": verdict})


def summarize(probe: str, history: list[dict[str, Any]]) -> dict[str, str]:
    """The last outcome of each check of ``probe``, in CHECKS order (unknown checks after)."""
    latest: dict[str, str] = {}
    for item in history:
        if isinstance(item, dict) and item.get("probe") == probe and item.get("check") != "done":
            latest[str(item.get("check"))] = str(item.get("outcome"))
    ordered = {check: latest[check] for check in CHECKS if check in latest}
    ordered.update({check: outcome for check, outcome in latest.items() if check not in ordered})
    return ordered


def report_lines(verdict: dict[str, str]) -> list[str]:
    honoured = sum(1 for outcome in verdict.values() if outcome in ("ok", "sent"))
    lines = [f"MCP Apps host report: {honoured} of {len(verdict)} checks honoured"]
    for check, outcome in verdict.items():
        lines.append(f"- {check}: {outcome} ({CHECKS.get(check, 'reported by the view')})")
    return lines
