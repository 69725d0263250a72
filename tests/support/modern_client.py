"""Raw 2026-07-28 (stateless) requests for tests: exactly the headers and ``_meta`` a client sends.

``modern_post`` builds a conformant request (``MCP-Protocol-Version``, ``Mcp-Method``,
``Mcp-Name``, ``_meta`` with version, capabilities and client info) and lets a test remove or
override any part of it; ``modern_messages`` returns every JSON-RPC message of the answer (JSON
or SSE), each validated against the 2026-07-28 schema.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from mcp.wire.routing_headers import NAME_SOURCE
from tests.support.client import ACCEPT_BOTH, parse_sse
from tests.support.schema_check import assert_modern_valid

MODERN = "2026-07-28"
SESSION_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
CAPABILITIES = {"sampling": {}, "elicitation": {}, "roots": {"listChanged": True}}
# The schema's result type for each method (2026-07-28 names).
RESULT_TYPES = {
    "server/discover": "DiscoverResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "resources/list": "ListResourcesResult",
    "resources/templates/list": "ListResourceTemplatesResult",
    "resources/read": "ReadResourceResult",
    "prompts/list": "ListPromptsResult",
    "prompts/get": "GetPromptResult",
    "completion/complete": "CompleteResult",
}
_ids = itertools.count(1000)
OMIT = object()


def request_meta(capabilities: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": CAPABILITIES if capabilities is None else capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "1.0"},
    }
    meta.update({f"io.modelcontextprotocol/{key}": value for key, value in extra.items()})
    return meta


def modern_headers(method: str, params: dict[str, Any], **overrides: Any) -> dict[str, str]:
    """The conformant headers; an override of ``OMIT`` drops that header."""
    headers = {
        "Content-Type": "application/json",
        "Accept": ACCEPT_BOTH,
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": method,
    }
    source = NAME_SOURCE.get(method)
    if source and isinstance(params.get(source), str):
        headers["Mcp-Name"] = params[source]
    for name, value in overrides.items():
        header = name.replace("_", "-")
        headers.pop(header, None)
        if value is not OMIT:
            headers[header] = value
    return headers


async def modern_post(
    http: httpx.AsyncClient,
    method: str,
    params: dict[str, Any] | None = None,
    *,
    meta: Any = None,
    request_id: Any = None,
    headers: dict[str, Any] | None = None,
    url: str = "/mcp",
) -> httpx.Response:
    """POST one stateless request; ``meta=OMIT`` sends no ``_meta`` at all."""
    params = dict(params or {})
    if meta is not OMIT:
        params["_meta"] = request_meta() if meta is None else meta
    body = {"jsonrpc": "2.0", "id": next(_ids) if request_id is None else request_id, "method": method}
    body["params"] = params
    sent = modern_headers(method, params, **(headers or {}))
    return await http.post(url, json=body, headers=sent)


def modern_messages(response: httpx.Response) -> list[dict[str, Any]]:
    """Every JSON-RPC message of the answer, each valid against the 2026-07-28 schema."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        messages = [event.json for event in parse_sse(response.text) if event.data.strip()]
    else:
        messages = [response.json()]
    for message in messages:
        assert_modern_valid(message)
    return messages


def modern_result(response: httpx.Response, method: str) -> dict[str, Any]:
    """The result of a successful answer (HTTP 200), checked against its schema type."""
    assert response.status_code == 200, response.text
    final = modern_messages(response)[-1]
    assert "result" in final, final
    if final["result"].get("resultType") == "input_required":
        assert_modern_valid(final, "InputRequiredResult")
    elif final["result"].get("resultType") == "task":
        # The tasks extension's CreateTaskResult is not in the core schema: a Result there.
        assert_modern_valid(final, "Result")
    elif method in RESULT_TYPES:
        assert_modern_valid(final, RESULT_TYPES[method])
    return final["result"]


def modern_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """The JSON-RPC error of a refused request, after checking its HTTP status and code."""
    assert response.status_code == status, (response.status_code, response.text)
    message = modern_messages(response)[-1]
    assert message["error"]["code"] == code, message
    return message
