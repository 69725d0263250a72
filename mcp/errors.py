"""The error hierarchy: every failure the server reports, with its JSON-RPC code and HTTP status.

Raise these at the point of failure; ``mcp.transport.http.guarded`` is the one boundary that
turns them (and anything unexpected) into HTTP responses, and ``message_for`` the one place an
exception becomes a JSON-RPC error object (unexpected ones are logged with an error id, never
shown). Two families:

- ``HttpError``: the HTTP exchange itself is refused (bad headers, unknown session, limits).
  The response carries the status below and a JSON-RPC error body without an id.
- ``RpcError``: a well-formed request failed. It is answered like any other response to
  that request (HTTP 200, or an SSE event), with the request's id.
"""

from __future__ import annotations

import logging
import secrets
from contextvars import ContextVar
from typing import Any

from mcp.redact import describe_exception
from mcp.wire import jsonrpc

logger = logging.getLogger("mcp.errors")


class StoreUnavailable(Exception):
    """The backing store could not be reached; the request fails with 503, nothing is lost.

    Not an ``McpError``: the transport's boundary answers it (503), never as a JSON-RPC error."""


class ToolError(Exception):
    """A tool's failure, reported to the caller as a tool result with ``isError: true`` (not a
    JSON-RPC error): raised by tools and by what they call (state handles, inputs)."""


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
        # The id of the request that failed, when it could be read (shown in the error body).
        self.request_id: jsonrpc.RequestId | None = None


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


class InvalidMessage(HttpError):
    """The body is JSON but not a JSON-RPC message: 400 with the parser's code (and id, if read)."""

    def __init__(self, error: jsonrpc.JsonRpcError) -> None:
        super().__init__(error.message, data=error.data)
        self.code = error.code
        self.request_id = error.id


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


# --- The 2026-07-28 (stateless) era refuses a request (the body carries the request's id) ---


class InvalidMeta(HttpError):
    """A required ``_meta`` field is missing or malformed: HTTP 400, -32602."""

    code = jsonrpc.INVALID_PARAMS
    default_message = "Invalid params: missing or malformed _meta"


class HeaderMismatch(HttpError):
    """A required header is missing, malformed, or disagrees with the body: HTTP 400, -32020."""

    code = -32020
    default_message = "Header mismatch"


class MissingClientCapability(HttpError):
    """The request needs a capability the client did not declare: HTTP 400, -32021."""

    code = -32021

    def __init__(self, capability: str, *, required: dict[str, Any] | None = None) -> None:
        super().__init__(
            f"Missing required client capability: this request needs {capability!r}, which the "
            "client did not declare in io.modelcontextprotocol/clientCapabilities",
            data={"requiredCapabilities": required or {capability: {}}},
        )


class UnsupportedProtocolVersion(HttpError):
    """HTTP 400, -32022, naming the versions this server speaks and the one requested."""

    code = -32022

    def __init__(self, requested: str, supported: list[str]) -> None:
        super().__init__(
            f"Unsupported protocol version {requested[:40]!r}; supported: {', '.join(supported)}",
            data={"supported": supported, "requested": requested},
        )


class UnknownMethod(HttpError):
    """A method this era does not have (unknown, or only in the session era): HTTP 404, -32601."""

    code = jsonrpc.METHOD_NOT_FOUND
    status = 404
    default_message = "Method not found"


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


class NoSession(RpcError):
    """A 2025-era method that only makes sense inside a session was reached without one."""

    code = jsonrpc.INVALID_REQUEST
    default_message = "Invalid Request: this method needs a session"


# JSON-RPC has no code for this; -32800 is the one LSP uses and several MCP clients know.
REQUEST_CANCELLED = -32800


class RequestCancelled(RpcError):
    code = REQUEST_CANCELLED
    default_message = "Request cancelled"


class ReplayedError(RpcError):
    """A stored JSON-RPC error answered again (a task's failure, shown by tasks/result)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error.get("message", "")), data=error.get("data"))
        self.code = int(error.get("code", jsonrpc.INTERNAL_ERROR))


def internal_error(exc: BaseException, where: str = "request", *, status: int = 200) -> InternalError:
    """The one internal-error builder: logs ``exc`` (redacted, one line) under a fresh error id,
    and returns the error the client sees, which carries only that id (``status``: HTTP 500
    when the whole exchange failed, 200 when one request inside it did)."""
    error_id = secrets.token_hex(4)
    logger.error("internal error %s in %s: %s", error_id, where, describe_exception(exc))
    error = InternalError(data={"errorId": error_id})
    error.status = status
    return error


# What the current exchange was answered with: [JSON-RPC errors, tool results with ``isError``],
# a list the access observer (mcp.ops.observe) sets per exchange, shared by the tasks started for
# it. The figures read the first (an error inside a 200 answer is an error too); the second is a
# failed call, not an error of the protocol (its outcome stays ok), shown in its traffic row.
exchange_errors: ContextVar[list[int] | None] = ContextVar("exchange_errors", default=None)
RPC_ERRORS, TOOL_ERRORS = 0, 1


def note_tool_error() -> None:
    counter = exchange_errors.get()
    if counter is not None:
        counter[TOOL_ERRORS] += 1


def message_for(request_id: jsonrpc.RequestId | None, exc: BaseException) -> dict[str, Any]:
    """The JSON-RPC error object for any exception (unexpected ones logged, never shown);
    counted for the current exchange (``exchange_errors``)."""
    error = exc if isinstance(exc, McpError) else internal_error(exc)
    counter = exchange_errors.get()
    if counter is not None:
        counter[RPC_ERRORS] += 1
    return jsonrpc.error(request_id, error.code, error.message, error.data)


class ClientRequestFailed(Exception):
    """A request the server sent to the client timed out, was refused, or could not be sent.

    Raised by ``Context.ask_client``; tools turn it into a tool error.
    """
