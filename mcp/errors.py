"""The error hierarchy: every failure the server reports, with its JSON-RPC code and HTTP status.

Raise these at the point of failure; ``mcp.transport`` is the one boundary that turns them
(and anything unexpected) into responses. Two families:

- ``HttpError``: the HTTP exchange itself is refused (bad headers, unknown session, limits).
  The response carries the status below and a JSON-RPC error body without an id.
- ``RpcError``: a well-formed request failed. It is answered like any other response to
  that request (HTTP 200, or an SSE event), with the request's id.
"""

from __future__ import annotations

from typing import Any

from mcp import jsonrpc


class McpError(Exception):
    code: int = jsonrpc.INTERNAL_ERROR
    status: int = 500
    default_message: str = "Internal error"

    def __init__(
        self,
        message: str | None = None,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        self.data = data
        self.headers = headers or {}


# --- The HTTP exchange is refused ----------------------------------------------------------


class HttpError(McpError):
    code = jsonrpc.INVALID_REQUEST
    status = 400
    default_message = "Bad Request"


class ParseError(HttpError):
    code = jsonrpc.PARSE_ERROR
    default_message = "Parse error"


class BadRequest(HttpError):
    pass


class SessionRequired(HttpError):
    default_message = "Bad Request: Mcp-Session-Id header is required"


class SessionNotFound(HttpError):
    code = jsonrpc.SESSION_NOT_FOUND
    status = 404
    default_message = "Session not found"


class Unauthorized(HttpError):
    status = 401
    default_message = "Unauthorized"


class Forbidden(HttpError):
    status = 403
    default_message = "Forbidden"


class MethodNotAllowed(HttpError):
    status = 405
    default_message = "Method Not Allowed"


class NotAcceptable(HttpError):
    status = 406
    default_message = "Not Acceptable: the client must accept application/json or text/event-stream"


class Conflict(HttpError):
    status = 409
    default_message = "Conflict"


class PayloadTooLarge(HttpError):
    status = 413
    default_message = "Payload Too Large"


class UnsupportedMediaType(HttpError):
    status = 415
    default_message = "Unsupported Media Type: Content-Type must be application/json"


class TooManyRequests(HttpError):
    status = 429
    default_message = "Too Many Requests"


class ServiceUnavailable(HttpError):
    status = 503
    default_message = "Service Unavailable"


# --- A request failed ----------------------------------------------------------------------


class RpcError(McpError):
    status = 200


class InvalidRequest(RpcError):
    code = jsonrpc.INVALID_REQUEST
    default_message = "Invalid Request"


class MethodNotFound(RpcError):
    code = jsonrpc.METHOD_NOT_FOUND
    default_message = "Method not found"


class InvalidParams(RpcError):
    code = jsonrpc.INVALID_PARAMS
    default_message = "Invalid params"


class ResourceNotFound(RpcError):
    code = jsonrpc.RESOURCE_NOT_FOUND
    default_message = "Resource not found"


class InternalError(RpcError):
    code = jsonrpc.INTERNAL_ERROR
    default_message = "Internal error"


class ClientRequestFailed(Exception):
    """A request the server sent to the client timed out, was refused, or could not be sent.

    Raised by ``Context.ask_client``; tools turn it into a tool error.
    """
