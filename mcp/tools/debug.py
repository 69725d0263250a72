"""The seed's 11 diagnostic tools, with its behaviour and without its defects."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings

from echoserver import __version__
from mcp.bus import OUTBOX
from mcp.errors import ToolError
from mcp.redact import describe_exception
from mcp.sessions import handles
from mcp.telemetry import carrier
from mcp.tools import jwtinfo
from mcp.tools.debuginfo import (
    clean,
    django_version,
    duration,
    environment_lines,
    header_sections,
    heading,
    iso,
    megabytes,
    process_started,
    python_version,
    rss_bytes,
    shown_header,
    system_lines,
    trace_lines,
)
from mcp.tools.jwtinfo import DecodedToken, TokenProblem
from mcp.tools.registry import ToolResult, Toolset, text
from mcp.wire import headers as mcp_headers
from mcp.wire.uri import origin_allowed

if TYPE_CHECKING:
    from mcp.calls.context import Context
    from mcp.store import Session

TOOLSET = Toolset("debug")


def session_tag(ctx: Context) -> str:
    return handles.label(ctx)


@TOOLSET.tool(
    "echo",
    "Echo back the provided message",
    handles.with_handle(
        {
            "type": "object",
            "properties": {"message": {"type": "string", "description": "The message to echo back"}},
            "required": ["message"],
            "additionalProperties": False,
        }
    ),
    blind=True,
)
async def echo(ctx: Context, args: dict[str, Any]) -> str:
    message = args["message"]
    scope = await handles.scope(ctx)
    if scope is None:
        return message
    await ctx.store.set_state(scope.id, "last_echo", message)
    return f"[{session_tag(ctx)} from {scope.client_name}] {message}"


@TOOLSET.tool(
    "replayLastEcho",
    "Replay the last message that was echoed in this session",
    handles.with_handle({"type": "object", "properties": {}, "additionalProperties": False}),
)
async def replay_last_echo(ctx: Context, args: dict[str, Any]) -> str:
    if ctx.session is None:
        raise ToolError(
            "Session required for replay functionality (without a session: pass the `handle` echo returned)"
        )
    message = ctx.session.state.get("last_echo")
    if message is None:
        return "No previous echo message found in this session. Use the echo tool first!"
    return f"[REPLAY - {session_tag(ctx)} from {ctx.session.client_name}] {message}"


# --- Shared layout ------------------------------------------------------------------------------

SERVER_TYPE = "Stateful with session management"
NO_IDENTITY = "AUTHENTICATION REQUIRED\nPlease provide valid authentication credentials.\n"
OAUTH_HEADERS = (
    ("User ID", "x-user-id"),
    ("User Name", "x-user-name"),
    ("Auth Token", "x-auth-token"),
    ("Client ID", "x-client-id"),
    ("OAuth Client", "x-oauth-client"),
)
PREFLIGHT_HEADERS = (
    ("Access-Control-Request-Method", "access-control-request-method"),
    ("Access-Control-Request-Headers", "access-control-request-headers"),
)
# requestTiming's verdicts, as the seed words them: (upper bound in ms, text).
SPEED = ((10, "⚡ Excellent (<10ms)"), (50, "✅ Good (<50ms)"), (100, "⚠️  Acceptable (<100ms)"))


def client_label(session: Session) -> str:
    name = clean(session.client_name, 100)
    version = clean(session.client_version, 50)
    return f"{name} v{version}" if version else name


def report(title: str, ctx: Context, body: list[str], *, about_session: tuple[str, ...] = ()) -> str:
    """Title, rule, ``Session: <first 8>...`` (then ``about_session``) with a session, then body."""
    lines = heading(title)
    if ctx.session is not None:
        lines += [f"Session: {ctx.session.id[:8]}...", *about_session, ""]
    return "\n".join([*lines, *body])


def bearer_claims(ctx: Context) -> dict[str, Any] | None:
    """Verified claims when this server checked the token, else the unverified payload, else None."""
    if ctx.request.auth is not None:
        return ctx.request.auth
    try:
        return jwtinfo.decode(jwtinfo.bearer_token(ctx.request.header("authorization"))).payload
    except TokenProblem:
        return None


# --- Tools --------------------------------------------------------------------------------------


META_VERSION = "io.modelcontextprotocol/protocolVersion"


def header_verdicts(ctx: Context, name: str, args: dict[str, Any]) -> list[str]:
    """The MCP header verdicts for the tools/call that runs tool ``name`` (printHeader's section)."""
    meta_version = ctx.meta.get(META_VERSION)
    found = mcp_headers.verdicts(
        ctx.request.headers,
        method="tools/call",
        params={"name": name, "arguments": args},
        supported=settings.MCP_PROTOCOL_VERSIONS_SUPPORTED,
        session_id=ctx.session.id if ctx.session else None,
        session_version=ctx.session.protocol_version if ctx.session else None,
        meta_version=meta_version if isinstance(meta_version, str) else None,
    )
    return ["MCP HEADER VERDICTS:", "-" * 30, *(f"  {clean(v.line(), 600)}" for v in found), ""]


def trace_context(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the verdict on this call's trace context, the server's span for it) for printHeader
    and traceInfo: the call's own ``params._meta`` (else the exchange's first message's)."""
    meta = ctx.meta or ctx.request.meta
    client = carrier.inspect(meta, ctx.request.headers).as_dict()
    return client, ctx.trace.describe() if ctx.trace is not None else {"tracing": "off"}


# The seed's description, kept; the verdict section is documented in the README.
@TOOLSET.tool("printHeader", "Print all HTTP headers from the current request")
async def print_header(ctx: Context, args: dict[str, Any]) -> str:
    lines = [
        *heading("HTTP Headers:", 50),
        *header_sections(ctx.request.headers),
        *header_verdicts(ctx, "printHeader", args),
        *trace_lines(*trace_context(ctx)),
    ]
    if ctx.session is not None:
        lines += [
            "Session Context:",
            "-" * 30,
            f"Session ID: {ctx.session.id}",
            f"Session Initialized: {'Yes' if ctx.session.initialized else 'No'}",
        ]
    return "\n".join(lines).rstrip("\n")


@TOOLSET.tool(
    "traceInfo",
    "The trace context this call carried (params._meta or HTTP headers, well formed or why not) "
    "and the server's span for it (trace id, span id, where its parent came from)",
    title="Trace context",
    annotations={"readOnlyHint": True, "openWorldHint": False},
)
async def trace_info(ctx: Context, args: dict[str, Any]) -> ToolResult:
    client, server = trace_context(ctx)
    return ToolResult(
        [text("\n".join(trace_lines(client, server)).rstrip())], {"client": client, "server": server}
    )


@TOOLSET.tool(
    "bearerDecode",
    "Decode JWT Bearer token from Authorization header (no signature verification)",
    {
        "type": "object",
        "properties": {
            "includeRaw": {"type": "boolean", "default": False, "description": "Include raw token parts"}
        },
        "additionalProperties": False,
    },
)
async def bearer_decode(ctx: Context, args: dict[str, Any]) -> str:
    try:
        token: DecodedToken = jwtinfo.decode(jwtinfo.bearer_token(ctx.request.header("authorization")))
    except TokenProblem as problem:
        return report("Bearer Token Analysis", ctx, [f"❌ {problem}"])
    body = jwtinfo.describe(
        token,
        now=time.time(),
        verified=ctx.request.auth is not None,
        include_raw=bool(args.get("includeRaw", False)),
    )
    return report("Bearer Token Analysis", ctx, body)


@TOOLSET.tool("authContext", "Display complete authentication context from request")
async def auth_context(ctx: Context, args: dict[str, Any]) -> str:
    body = [
        "Bearer Token:",
        *_bearer_summary(ctx),
        "",
        "OAuth Headers (unverified, any caller can send them):",
    ]
    present = [(label, name) for label, name in OAUTH_HEADERS if name in ctx.request.headers]
    body += [f"  {label}: {shown_header(name, ctx.request.headers[name])}" for label, name in present]
    if not present:
        body.append("  ❌ No OAuth headers found")
    return report("Authentication Context Analysis", ctx, body)


def _bearer_summary(ctx: Context) -> list[str]:
    authorization = ctx.request.header("authorization")
    if not authorization.strip():
        return ["  ❌ Not present"]
    try:
        raw = jwtinfo.bearer_token(authorization)
    except TokenProblem as problem:
        return [f"  ❌ {problem}"]
    lines = [f"  ✅ Present (length: {len(raw)})"]
    claims = ctx.request.auth
    if claims is None:
        try:
            claims = jwtinfo.decode(raw).payload
        except TokenProblem as problem:
            lines.append(f"  ❌ {problem}")
    for label, names in (("Subject", ("sub",)), ("Client ID", ("client_id", "azp"))):
        value = next((claims[name] for name in names if name in claims), None) if claims else None
        if value is not None:
            lines.append(f"  {label}: {jwtinfo.claim_text(value)}")
    verified = (
        "yes (signature checked by this server)"
        if ctx.request.auth is not None
        else "no (decoded without verification)"
    )
    lines.append(f"  Verified: {verified}")
    return lines


@TOOLSET.tool("requestTiming", "Show request timing and performance metrics")
async def request_timing(ctx: Context, args: dict[str, Any]) -> str:
    now = time.time()
    elapsed_ms = (time.perf_counter() - ctx.request.started) * 1000
    verdict = next((text for limit, text in SPEED if elapsed_ms < limit), "❌ Slow (>100ms)")
    body = [
        "Timing:",
        f"  Request received: {iso(ctx.request.received_at)}",
        f"  Current time: {iso(now)}",
        f"  Elapsed: {elapsed_ms:.2f}ms",
        "",
        "Performance Indicators:",
        f"  {verdict}",
    ]
    age = (f"Session Age: {ctx.session.age(now):.2f}s",) if ctx.session else ()
    return report("Request Timing Analysis", ctx, body, about_session=age)


@TOOLSET.tool("corsAnalysis", "Analyze CORS configuration and requirements")
async def cors_analysis(ctx: Context, args: dict[str, Any]) -> str:
    headers = ctx.request.headers
    origin = headers.get("origin")
    shown_origin = clean(origin, 200) if origin is not None else "Not present (same-origin request)"
    body = ["Request Headers:", f"  Origin: {shown_origin}"]
    for label, name in PREFLIGHT_HEADERS:
        if name in headers:
            body.append(f"  {label}: {clean(headers[name], 300)}")

    methods = list(getattr(settings, "CORS_ALLOW_METHODS", ()))
    allow_headers = [name.lower() for name in getattr(settings, "CORS_ALLOW_HEADERS", ())]
    body += [
        "",
        "Server CORS Policy (this server answers CORS itself):",
        f"  Allowed Origins: {', '.join(settings.MCP_ALLOWED_ORIGINS) or 'none'} (MCP_ALLOWED_ORIGINS)",
        f"  Allowed Methods: {', '.join(methods) or 'none'}",
        f"  Allowed Headers: {', '.join(allow_headers) or 'none'}",
        f"  Exposed Headers: {', '.join(getattr(settings, 'CORS_EXPOSE_HEADERS', ())) or 'none'}",
        "",
        "Verdict:",
    ]
    if origin is None:
        body.append("  ✅ No Origin header: not a cross-origin browser request, CORS does not apply")
    elif origin_allowed(origin, ctx.request.header("host")):
        body.append(f"  ✅ Origin {clean(origin, 200)} is allowed")
    else:
        body.append(f"  ❌ Origin {clean(origin, 200)} is not allowed: such requests get 403")
    method = headers.get("access-control-request-method", "").strip().upper()
    if method and method not in methods:
        body.append(f"  ❌ Method {clean(method, 50)} is not allowed")
    requested = headers.get("access-control-request-headers", "").lower().split(",")
    refused = [name.strip() for name in requested if name.strip() and name.strip() not in allow_headers]
    if refused:
        body.append(f"  ❌ Headers not allowed: {clean(', '.join(refused), 300)}")
    return report("CORS Configuration Analysis", ctx, body)


@TOOLSET.tool(
    "environmentDump",
    "Display sanitized environment configuration",
    {
        "type": "object",
        "properties": {
            "showSecrets": {
                "type": "boolean",
                "default": False,
                "description": "Show first/last 4 chars of secrets",
            }
        },
        "additionalProperties": False,
    },
)
async def environment_dump(ctx: Context, args: dict[str, Any]) -> str:
    show = bool(args.get("showSecrets", False))
    body = environment_lines(os.environ, show_secrets=show)
    body += ["", *system_lines(), "", f"Server Type: {SERVER_TYPE}"]
    if show:
        body.append("Secrets: first 4 characters and length only (showSecrets=true)")
    else:
        body.append("Secrets: hidden, length only (showSecrets=false)")
    return report("Environment Configuration", ctx, body)


@TOOLSET.tool("healthProbe", "Perform deep health check of service and dependencies")
async def health_probe(ctx: Context, args: dict[str, Any]) -> str:
    started = time.perf_counter()
    try:
        healthy = bool(await ctx.store.ping())
        store_line = "✅ answering" if healthy else "❌ not answering"
    except Exception as exc:
        healthy, store_line = False, f"❌ unreachable ({describe_exception(exc)})"
    latency_ms = (time.perf_counter() - started) * 1000
    try:
        active = str((await ctx.store.stats()).active)
    except Exception:
        active = "unknown (store unreachable)"
    rss = rss_bytes()
    body = [
        "Service Status:",
        f"  Status: {'✅ HEALTHY' if healthy else '⚠️  DEGRADED'}",
        f"  Server: {settings.MCP_SERVER_NAME} v{__version__}",
        f"  Protocol: {', '.join(settings.MCP_PROTOCOL_VERSIONS_SUPPORTED)}",
        f"  Type: {SERVER_TYPE}",
        f"  Uptime: {duration(time.time() - process_started())}",
        f"  Python: {python_version()}",
        f"  Django: {django_version()}",
        "",
        "Dependencies:",
        f"  Session Store ({ctx.store.backend}): {store_line} in {latency_ms:.2f}ms",
        f"  Message Bus: {ctx.bus.backend}",
        "",
        "Session Management:",
        f"  Active Sessions: {active}",
        f"  Session Timeout: {ctx.store.timeout:g}s",
    ]
    if ctx.session is not None:
        body.append(f"  Current Session Age: {ctx.session.age():.1f}s")
    body += ["", "Resources:", f"  Memory (RSS): {megabytes(rss) if rss is not None else 'unavailable'}"]
    return report("Service Health Check", ctx, body)


@TOOLSET.tool("sessionInfo", "Display current session information and statistics")
async def session_info(ctx: Context, args: dict[str, Any]) -> str:
    session = ctx.session
    if session is None:
        body = ["Current Session: None", ""]
    else:
        outbox = await ctx.bus.info(session.id, OUTBOX)
        body = [
            "Current Session:",
            f"  Session ID: {session.id}",
            f"  Created: {iso(session.created)}",
            f"  Last Activity: {iso(session.last_activity)}",
            f"  Initialized: {'Yes' if session.initialized else 'No'}",
            f"  Protocol Version: {session.protocol_version}",
            f"  Client: {client_label(session)}",
            f"  Requests: {session.requests}",
            f"  Queued Messages: {outbox.queued} (dropped: {outbox.dropped})",
            "",
        ]
    # Aggregates only: other sessions' ids and clients are theirs (seed defect E3).
    stats = await ctx.store.stats()
    body += [
        "Server Statistics:",
        f"  Total Active Sessions: {stats.active}",
        f"  Sessions Created: {stats.created_total}",
        f"  Sessions Expired: {stats.expired_total}",
        f"  Sessions Deleted: {stats.deleted_total}",
        f"  Server Type: {SERVER_TYPE}",
        f"  Session Timeout: {ctx.store.timeout:g} seconds",
    ]
    return "\n".join([*heading("Session Information"), *body])


@TOOLSET.tool(
    "whoIStheGOAT",
    "Employs cutting-edge artificial intelligence to perform comprehensive analysis of global software "
    "engineering excellence metrics using proprietary deep learning models",
)
async def who_is_the_goat(ctx: Context, args: dict[str, Any]) -> str:
    lines = heading("G.O.A.T. PROGRAMMER IDENTIFICATION SYSTEM v3.14159", 50)
    if ctx.session is not None:
        lines += [f"Session: {ctx.session.id[:8]}...", f"Client: {client_label(ctx.session)}", ""]
    lines += ["ADVANCED AI ANALYSIS COMPLETE", "═" * 40, ""]
    claims = bearer_claims(ctx)
    name = jwtinfo.identity_name(claims) if claims else None
    for header in ("x-user-name", "x-user-id"):
        if name is None:
            name = clean(ctx.request.header(header), jwtinfo.NAME_LIMIT).strip() or None
    if name is None:
        return "\n".join([*lines, NO_IDENTITY])
    version = ctx.session.protocol_version if ctx.session else settings.MCP_PROTOCOL_VERSION
    lines += [
        f"Subject: {name}",
        "",
        "AI-IDENTIFIED EXCEPTIONAL CAPABILITIES:",
        "• Code Quality Score: 100/100 (Statistical Anomaly)",
        "• Session Management: Advanced (Stateful Architecture)",
        f"• Protocol Compliance: MCP {version} Excellence",
        "",
        "CONCLUSION:",
        f"Based on irrefutable AI analysis, {name} represents",
        "the pinnacle of software engineering achievement.",
    ]
    return "\n".join(lines)
