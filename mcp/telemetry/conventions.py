"""The MCP semantic conventions (OpenTelemetry GenAI, mcp.md) as plain data: names, attributes.

No OpenTelemetry import. A span is named ``{mcp.method.name} {target}``, the target being
the tool or prompt name when there is one (never a resource URI: unbounded); its attributes
and the operation-duration histogram's come from the same function so they cannot drift.
The error rules: ``error.type`` is the JSON-RPC error code as a string (also in
``rpc.response.status_code``), ``tool_error`` for a tools/call result with ``isError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METHOD = "mcp.method.name"
SESSION_ID = "mcp.session.id"
PROTOCOL_VERSION = "mcp.protocol.version"
RESOURCE_URI = "mcp.resource.uri"
REQUEST_ID = "jsonrpc.request.id"
TOOL_NAME = "gen_ai.tool.name"
PROMPT_NAME = "gen_ai.prompt.name"
OPERATION_NAME = "gen_ai.operation.name"
ERROR_TYPE = "error.type"
STATUS_CODE = "rpc.response.status_code"
NETWORK_TRANSPORT = "network.transport"
NETWORK_PROTOCOL = "network.protocol.name"
NETWORK_PROTOCOL_VERSION = "network.protocol.version"
CLIENT_ADDRESS = "client.address"
CLIENT_PORT = "client.port"

OPERATION_DURATION = "mcp.server.operation.duration"
SESSION_DURATION = "mcp.server.session.duration"
CLIENT_OPERATION_DURATION = "mcp.client.operation.duration"
# The conventions' advice for every MCP duration histogram (seconds).
DURATION_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)

TOOL_ERROR = "tool_error"
# The conventions' fallback value (an error without a JSON-RPC code; a method in metrics that
# this server does not know).
OTHER_ERROR = "_OTHER"

# Methods named as they are in metrics; any other becomes ``_OTHER`` there (a client must not
# grow a histogram's series without bound). Spans keep the method as received.
KNOWN_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "logging/setLevel",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "tasks/get",
        "tasks/result",
        "tasks/list",
        "tasks/cancel",
        "tasks/update",
        "server/discover",
        "subscriptions/listen",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
        "sampling/createMessage",
        "elicitation/create",
        "roots/list",
    }
)

RESOURCE_METHODS = frozenset(
    {"resources/read", "resources/subscribe", "resources/unsubscribe", "notifications/resources/updated"}
)
MAX_VALUE = 256


def _short(value: Any) -> str | None:
    return value[:MAX_VALUE] if isinstance(value, str) and value else None


def target(method: str, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """(attribute, value) naming what the operation acts on, when the conventions have one."""
    if method == "tools/call":
        name = _short(params.get("name"))
        return (TOOL_NAME, name) if name else None
    if method == "prompts/get":
        name = _short(params.get("name"))
        return (PROMPT_NAME, name) if name else None
    return None


def span_name(method: str, params: Mapping[str, Any]) -> str:
    """``tools/call echo``, ``prompts/get greet``, ``initialize``."""
    named = target(method, params)
    return f"{method} {named[1]}" if named else method


def operation_attributes(
    method: str, params: Mapping[str, Any], protocol_version: str | None, *, bounded: bool = False
) -> dict[str, Any]:
    """What the span and the operation-duration histogram share. ``bounded`` (the metric's
    copy): a method this server does not know is ``_OTHER``, a target left out unless the
    caller checked it exists (pass empty ``params`` otherwise)."""
    if bounded and method not in KNOWN_METHODS:
        method = OTHER_ERROR
    attributes: dict[str, Any] = {
        METHOD: method,
        NETWORK_TRANSPORT: "tcp",
        NETWORK_PROTOCOL: "http",
    }
    named = target(method, params)
    if named:
        attributes[named[0]] = named[1]
        if method == "tools/call":
            attributes[OPERATION_NAME] = "execute_tool"
    if protocol_version:
        attributes[PROTOCOL_VERSION] = protocol_version
    return attributes


def span_attributes(
    method: str,
    params: Mapping[str, Any],
    *,
    request_id: Any,
    session_id: str | None,
    protocol_version: str | None,
    client: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """The server span's attributes: the shared ones plus the per-message ones."""
    attributes = operation_attributes(method, params, protocol_version)
    if request_id is not None and not isinstance(request_id, bool):
        attributes[REQUEST_ID] = str(request_id)
    if session_id:
        attributes[SESSION_ID] = session_id
    if method in RESOURCE_METHODS:
        uri = _short(params.get("uri"))
        if uri:
            attributes[RESOURCE_URI] = uri
    if client and client[0]:
        attributes[CLIENT_ADDRESS] = client[0]
        if client[1]:
            attributes[CLIENT_PORT] = client[1]
    return attributes


def outcome(response: Mapping[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """(error.type, rpc.response.status_code, status message) of a response message; Nones
    when it succeeded (or there is none: a notification)."""
    if response is None:
        return None, None, None
    error = response.get("error")
    if isinstance(error, Mapping):
        code = error.get("code")
        code_text = str(code) if isinstance(code, int) and not isinstance(code, bool) else OTHER_ERROR
        message = error.get("message")
        return code_text, code_text if code_text != OTHER_ERROR else None, _short(message)
    result = response.get("result")
    if isinstance(result, Mapping) and result.get("isError") is True:
        return TOOL_ERROR, None, None
    return None, None, None
