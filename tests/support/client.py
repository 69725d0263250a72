"""A small MCP client for tests: raw HTTP through the real ASGI application (or a live server).

It speaks exactly what a client sends, so tests can assert status codes, headers and bodies.
SSE bodies are parsed into events; ``rpc`` returns the JSON-RPC response either way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from tests.support.schema_check import assert_valid

PROTOCOL = "2025-11-25"
# The schema's result type for each method, to check results beyond the JSON-RPC envelope.
RESULT_TYPES = {
    "initialize": "InitializeResult",
    "ping": "EmptyResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "resources/list": "ListResourcesResult",
    "resources/templates/list": "ListResourceTemplatesResult",
    "resources/read": "ReadResourceResult",
    "prompts/list": "ListPromptsResult",
    "prompts/get": "GetPromptResult",
    "completion/complete": "CompleteResult",
    "tasks/get": "GetTaskResult",
    "tasks/list": "ListTasksResult",
    "tasks/cancel": "CancelTaskResult",
}
ACCEPT_BOTH = "application/json, text/event-stream"


@dataclass
class SseEvent:
    data: str
    id: str | None = None
    event: str | None = None
    retry: int | None = None

    @property
    def json(self) -> Any:
        return orjson.loads(self.data)


def parse_sse(text: str) -> list[SseEvent]:
    """Events of an SSE body (comments skipped; an event with no data lines is dropped)."""
    events: list[SseEvent] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data: list[str] = []
        event = SseEvent("")
        seen = False
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            seen = True
            if name == "data":
                data.append(value)
            elif name == "id":
                event.id = value
            elif name == "event":
                event.event = value
            elif name == "retry":
                event.retry = int(value)
        if seen:
            event.data = "\n".join(data)
            events.append(event)
    return events


def messages_of(response: httpx.Response) -> list[dict[str, Any]]:
    """Every JSON-RPC message in a response, JSON or SSE, each checked against the official schema."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        messages = [event.json for event in parse_sse(response.text) if event.data.strip()]
    elif not response.content:
        messages = []
    else:
        body = response.json()
        messages = body if isinstance(body, list) else [body]
    for message in messages:
        assert_valid(message)
    return messages


@dataclass
class McpClient:
    http: httpx.AsyncClient
    path: str = "/mcp"
    session_id: str | None = None
    protocol: str = PROTOCOL
    accept: str = ACCEPT_BOTH
    extra_headers: dict[str, str] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": self.accept, **self.extra_headers}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
            headers["MCP-Protocol-Version"] = self.protocol
        headers.update(extra)
        return headers

    async def post(self, body: Any, **extra: str) -> httpx.Response:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return await self.http.post(self.path, content=content, headers=self.headers(**extra))

    async def initialize(
        self,
        *,
        version: str = PROTOCOL,
        client_name: str = "pytest",
        capabilities: dict[str, Any] | None = None,
        send_initialized: bool = True,
    ) -> dict[str, Any]:
        response = await self.post(
            {
                "jsonrpc": "2.0",
                "id": next(self._ids),
                "method": "initialize",
                "params": {
                    "protocolVersion": version,
                    "capabilities": capabilities or {},
                    "clientInfo": {"name": client_name, "version": "1.0"},
                },
            }
        )
        assert response.status_code == 200, response.text
        self.session_id = response.headers["mcp-session-id"]
        result = messages_of(response)[-1]["result"]
        self.protocol = result["protocolVersion"]
        if send_initialized:
            note = await self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
            assert note.status_code == 202, note.text
        return result

    async def request(
        self, method: str, params: dict[str, Any] | None = None, **extra: str
    ) -> httpx.Response:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None:
            body["params"] = params
        return await self.post(body, **extra)

    async def rpc(self, method: str, params: dict[str, Any] | None = None, **extra: str) -> dict[str, Any]:
        """The final JSON-RPC response to one request (after any notifications)."""
        response = await self.request(method, params, **extra)
        assert response.status_code == 200, response.text
        final = [m for m in messages_of(response) if "result" in m or "error" in m][-1]
        task_augmented = bool(params and "task" in params)
        if "result" in final and method in RESULT_TYPES:
            assert_valid(final, "CreateTaskResult" if task_augmented else RESULT_TYPES[method])
        return final

    async def call_tool(
        self, name: str, arguments: dict[str, Any] | None = None, **extra: str
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        response = await self.rpc("tools/call", params, **extra)
        assert "result" in response, response
        return response["result"]

    async def tool_text(self, name: str, arguments: dict[str, Any] | None = None, **extra: str) -> str:
        result = await self.call_tool(name, arguments, **extra)
        return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")
