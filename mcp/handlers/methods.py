"""One async function per MCP method: ``handler(ctx, params) -> result``.

Handlers raise ``mcp.errors.RpcError`` subclasses for failures the client should see as a
JSON-RPC error; ``mcp.dispatch.sessions`` turns them into responses. Tool failures are not errors:
they come back as a result with ``isError: true``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp import figures
from mcp.calls import running
from mcp.errors import (
    ClientRequestFailed,
    InvalidParams,
    MethodNotFound,
    ResourceNotFound,
    ToolError,
    note_tool_error,
)
from mcp.faults import inject as faults
from mcp.handlers import extensions, tasks
from mcp.sessions import handles, records
from mcp.tools import Tool, ToolResult, get_registry, text
from mcp.wire import identity
from mcp.wire import meta as modern
from mcp.wire.pagination import paginate
from mcp.wire.protocol import LOG_LEVELS, negotiate

if TYPE_CHECKING:
    from mcp.calls.context import Context

logger = logging.getLogger("mcp.handlers")

INSTRUCTIONS = (
    "A diagnostic MCP echo server. Call echo then replayLastEcho to see session state at "
    "work; printHeader, bearerDecode, authContext and requestTiming show exactly what your "
    "client sent."
)


def _object_param(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParams(f"Invalid params: {name} must be an object")
    return value


def server_capabilities() -> dict[str, Any]:
    """Declared only for what is implemented and enabled (derived from the registry)."""
    registry = get_registry()
    tools = registry.all()
    capabilities: dict[str, Any] = {}
    if tools:
        capabilities["tools"] = {"listChanged": any(tool.dynamic for tool in tools)}
    if registry.resources or registry.templates:
        dynamic = any(resource.dynamic for resource in registry.resources.values())
        capabilities["resources"] = {"subscribe": True, "listChanged": dynamic}
    if registry.prompts:
        capabilities["prompts"] = {"listChanged": any(prompt.dynamic for prompt in registry.prompts.values())}
    capabilities["logging"] = {}
    if registry.completions:
        capabilities["completions"] = {}
    if any(tool.task_support != "forbidden" for tool in tools):
        capabilities["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    return capabilities


def dynamic_enabled(ctx: Context, kind: str) -> bool:
    """Whether this session turned on its dynamic tools/resources/prompts (triggerListChanged)."""
    flags = ctx.session.state.get("dynamic") if ctx.session else None
    return bool(isinstance(flags, dict) and flags.get(kind))


def _visible(items: list[Any], ctx: Context, kind: str) -> list[Any]:
    show_dynamic = dynamic_enabled(ctx, kind)
    return [item for item in items if show_dynamic or not item.dynamic]


def _page(items: list[Any], params: dict[str, Any], key: str) -> dict[str, Any]:
    page, next_cursor = paginate(items, params.get("cursor"), settings.MCP_PAGE_SIZE)
    result: dict[str, Any] = {key: [item.definition for item in page]}
    if next_cursor:
        result["nextCursor"] = next_cursor
    return result


def _string_param(params: dict[str, Any], name: str, limit: int = 4096) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidParams(f"Invalid params: {name} must be a non-empty string")
    if len(value) > limit:
        raise InvalidParams(f"Invalid params: {name} is longer than {limit} characters")
    return value


# --- Lifecycle -------------------------------------------------------------------------------


def handshake(params: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """What ``initialize`` settles: (version, clientInfo, capabilities); -32602 for wrong types."""
    client_info = _object_param(params, "clientInfo")
    client_capabilities = _object_param(params, "capabilities")
    version = negotiate(
        params.get("protocolVersion"),
        settings.MCP_PROTOCOL_VERSIONS_SUPPORTED,
        settings.MCP_PROTOCOL_VERSION,
    )
    return version, client_info, client_capabilities


def initialize_result(version: str, client_capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    capabilities = server_capabilities()
    offered = extensions.offered(client_capabilities)
    if offered:
        capabilities = {**capabilities, "extensions": offered}
    return {
        "protocolVersion": version,
        "capabilities": capabilities,
        "serverInfo": identity.server_info(),
        "instructions": INSTRUCTIONS,
    }


async def initialize(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Negotiate a version and create the session (``ctx.session`` is set afterwards)."""
    version, client_info, client_capabilities = handshake(params)
    ctx.session = await records.create_record(
        ctx,
        kind=figures.SESSION,
        protocol_version=version,
        client_info=client_info,
        client_capabilities=client_capabilities,
    )
    logger.info("session %s… created for %s", ctx.session.id[:8], ctx.session.client_name)
    return initialize_result(version, client_capabilities)


async def reinitialize(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """``initialize`` on an existing legacy (HTTP+SSE) session: record what the client declared."""
    session = ctx.require_session()
    version, client_info, client_capabilities = handshake(params)
    await ctx.store.update(
        session.id,
        protocol_version=version,
        client_info=client_info,
        client_capabilities=client_capabilities,
    )
    return initialize_result(version, client_capabilities)


async def discover(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """server/discover (2026-07-28): every version this endpoint speaks, and what it offers."""
    return {
        "supportedVersions": modern.supported_versions(),
        "capabilities": modern.modern_capabilities(
            server_capabilities(), {**modern.EXTENSIONS, **extensions.available()}
        ),
        "instructions": INSTRUCTIONS,
    }


async def ping(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {}


async def set_log_level(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    level = params.get("level")
    if level not in LOG_LEVELS:
        raise InvalidParams(f"Invalid params: level must be one of {', '.join(LOG_LEVELS)}")
    session = ctx.require_session()
    await ctx.store.update(session.id, log_level=level)
    session.log_level = level
    return {}


# --- Tools -------------------------------------------------------------------------------


async def list_tools(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _page(_visible(get_registry().all(), ctx, "tools"), params, "tools")


def find_tool(ctx: Context, params: dict[str, Any]) -> Tool:
    name = params.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidParams("Invalid params: name must be a non-empty string")
    tool = get_registry().get(name)
    if tool is None or (tool.dynamic and not dynamic_enabled(ctx, "tools")):
        figures.record_tool_call(figures.UNKNOWN, "error")
        raise InvalidParams(f"Unknown tool: {name[:128]}")
    return tool


async def call_tool(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    tool = find_tool(ctx, params)
    task = params.get("task")
    if task is not None:
        if tool.task_support == "forbidden":
            raise MethodNotFound(f"Tool {tool.name} does not support task-augmented execution")
        if not isinstance(task, dict):
            raise InvalidParams("Invalid params: task must be an object")
        return await tasks.start(ctx, tool, params, task, run_tool)
    if tool.task_support == "required":
        raise MethodNotFound(f"Tool {tool.name} must be called as a task (params.task)")
    return await run_tool(ctx, tool, params)


async def run_tool(ctx: Context, tool: Tool, params: dict[str, Any]) -> dict[str, Any]:
    """Validate the arguments and run the tool; failures become ``isError`` results.

    An injected fault (mcp.faults) may answer instead of the tool, or pad its result.
    """
    try:
        result = faults.tool_fault(ctx.faults, ctx.request.marks, tool.name)
        if result is None:
            result = await _run_tool(ctx, tool, params)
            result = faults.oversize(ctx.faults, ctx.request.marks, result, ctx.request_id)
    except Exception:
        figures.record_tool_call(tool.name, "error")
        raise
    if result.get("isError"):
        note_tool_error()
    figures.record_tool_call(tool.name, "error" if result.get("isError") else "ok")
    return result


async def _run_tool(ctx: Context, tool: Tool, params: dict[str, Any]) -> dict[str, Any]:
    name = tool.name
    arguments = params.get("arguments")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return ToolResult.error(f"Invalid arguments for {name}: arguments must be an object").to_wire()
    problem = tool.argument_error(arguments)
    if problem is not None:
        return ToolResult.error(f"Invalid arguments for {name}: {problem}").to_wire()
    try:
        await handles.bind(ctx, arguments)
        outcome = await tool.func(ctx, arguments)
    except ToolError as exc:
        return ToolResult.error(str(exc)).to_wire()
    except ClientRequestFailed as exc:
        return ToolResult.error(f"{name} could not complete: {exc}").to_wire()
    result = {"content": [text(outcome)]} if isinstance(outcome, str) else outcome.to_wire()
    minted = handles.note(ctx)
    if minted is not None:
        result["content"] = [*result["content"], minted]
    return result


# --- Resources ---------------------------------------------------------------------------


async def list_resources(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _page(_visible(list(get_registry().resources.values()), ctx, "resources"), params, "resources")


async def list_resource_templates(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _page(list(get_registry().templates.values()), params, "resourceTemplates")


def _resolve(ctx: Context, uri: str) -> tuple[Any, dict[str, str]]:
    found = get_registry().find_resource(uri)
    if found is None or (getattr(found[0], "dynamic", False) and not dynamic_enabled(ctx, "resources")):
        raise ResourceNotFound(f"Resource not found: {uri[:200]}", data={"uri": uri[:200]})
    return found


async def read_resource(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    uri = _string_param(params, "uri")
    resource, variables = _resolve(ctx, uri)
    return {"contents": await resource.read(ctx, uri, variables)}


async def subscribe(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    uri = _string_param(params, "uri")
    _resolve(ctx, uri)
    await ctx.store.put_item(ctx.require_session().id, "subscriptions", uri, True)
    return {}


async def unsubscribe(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    uri = _string_param(params, "uri")
    await ctx.store.delete_item(ctx.require_session().id, "subscriptions", uri)
    return {}


# --- Prompts and completion ------------------------------------------------------------------


async def list_prompts(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return _page(_visible(list(get_registry().prompts.values()), ctx, "prompts"), params, "prompts")


def _prompt(ctx: Context, name: str) -> Any:
    prompt = get_registry().prompts.get(name)
    if prompt is None or (prompt.dynamic and not dynamic_enabled(ctx, "prompts")):
        raise InvalidParams(f"Invalid params: unknown prompt {name[:128]!r}")
    return prompt


async def get_prompt(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    prompt = _prompt(ctx, _string_param(params, "name"))
    arguments = _object_param(params, "arguments")
    if any(not isinstance(value, str) for value in arguments.values()):
        raise InvalidParams("Invalid params: prompt arguments must be strings")
    missing = prompt.missing(arguments)
    if missing:
        raise InvalidParams(f"Invalid params: missing required argument(s): {', '.join(missing)}")
    messages = await prompt.render(ctx, arguments)
    return {"description": prompt.description, "messages": messages}


async def complete(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    ref = _object_param(params, "ref")
    argument = _object_param(params, "argument")
    name, value = argument.get("name"), argument.get("value", "")
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidParams("Invalid params: argument needs a string name and value")
    context_arguments = _object_param(_object_param(params, "context"), "arguments")
    registry = get_registry()
    if ref.get("type") == "ref/prompt":
        key = _prompt(ctx, _string_param(ref, "name")).name
    elif ref.get("type") == "ref/resource":
        key = _string_param(ref, "uri")
        if key not in registry.templates and key not in registry.resources:
            raise InvalidParams(f"Invalid params: unknown resource template {key[:200]!r}")
    else:
        raise InvalidParams('Invalid params: ref.type must be "ref/prompt" or "ref/resource"')
    completer = registry.completions.get((ref["type"], key))
    values = await completer(ctx, name, value, context_arguments) if completer else []
    return {"completion": {"values": values[:100], "total": len(values), "hasMore": len(values) > 100}}


# --- Notifications from the client ----------------------------------------------------------


async def initialized(ctx: Context, params: dict[str, Any]) -> None:
    session = ctx.require_session()
    if not session.initialized:
        # Written behind: with the session's next request (one round trip fewer per session).
        ctx.store.update_soon(session.id, initialized=True)
        session.initialized = True


async def cancelled(ctx: Context, params: dict[str, Any]) -> None:
    """Stop the named request if it runs in this process; unknown or finished ids are ignored."""
    session = ctx.require_session()
    request_id = params.get("requestId")
    if request_id is not None:
        running.cancel(session.id, request_id)


async def ignored(ctx: Context, params: dict[str, Any]) -> None:
    """Accepted and dropped (e.g. notifications/roots/list_changed)."""
