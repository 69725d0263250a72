"""Building HTTP responses for the MCP endpoints (JSON, JSON-RPC errors, SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse

from mcp.errors import McpError, message_for
from mcp.policy.budget import encode_answer
from mcp.process.draining import until_drained
from mcp.wire import jsonrpc, sse

JSON = "application/json"


def json_response(message: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return encoded_json_response(jsonrpc.encode(message), status=status, headers=headers)


def answer_response(message: dict[str, Any]) -> HttpResponse:
    """One JSON-RPC answer as JSON, within the response budget (its error answer when over)."""
    return encoded_json_response(encode_answer(message))


def encoded_json_response(
    body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type=JSON)
    response["Content-Length"] = str(len(body))
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(exc: McpError) -> HttpResponse:
    """A refused exchange: the error's status, a JSON-RPC error body (with the request's id
    only when the error names one)."""
    return json_response(message_for(exc.request_id, exc), status=exc.status, headers=exc.headers)


def sse_response(
    events: AsyncIterator[bytes], headers: dict[str, str] | None = None
) -> StreamingHttpResponse:
    # Ended with a retry hint when the process drains (SIGTERM): see mcp.process.draining.
    response = StreamingHttpResponse(until_drained(events), content_type=sse.CONTENT_TYPE)
    for name, value in {**sse.HEADERS, **(headers or {})}.items():
        response[name] = value
    return response


def empty_response(status: int, headers: dict[str, str] | None = None) -> HttpResponse:
    """202/204 and the like: no body, so no Content-Type either."""
    response = HttpResponse(status=status, headers=headers)
    del response["Content-Type"]
    return response
