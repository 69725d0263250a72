"""HTTP pieces every MCP endpoint shares, whatever the era: the one error boundary, header
parsing, admission (authentication and rate limit) and reading the body.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from mcp import scope as scope_keys
from mcp.dispatch.base import STORE_DOWN
from mcp.errors import (
    BadRequest,
    InvalidMessage,
    McpError,
    ParseError,
    PayloadTooLarge,
    ServiceUnavailable,
    internal_error,
)
from mcp.policy import seam
from mcp.redact import describe_exception
from mcp.store import StoreUnavailable
from mcp.transport.responses import JSON, error_response
from mcp.transport.security import request_info
from mcp.wire import jsonrpc, sse
from mcp.wire.request import RequestInfo

logger = logging.getLogger("mcp.transport")

View = Callable[..., Awaitable[HttpResponseBase]]


def guarded(view: View) -> View:
    """The one boundary: every exception a view raises becomes a protocol-correct answer."""

    @functools.wraps(view)
    async def boundary(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return await view(request, *args, **kwargs)
        except McpError as exc:
            return error_response(exc)
        except StoreUnavailable as exc:
            # An outage, not a bug: one line, not an error report per request.
            logger.warning("session store unavailable: %s", describe_exception(exc))
            return error_response(ServiceUnavailable(STORE_DOWN))
        except Exception as exc:
            return error_response(internal_error(exc, request.path, status=500))

    return boundary


def parse_accept(header: str | None) -> tuple[bool, bool]:
    """(accepts JSON, accepts SSE); wildcards count, ``q=0`` refuses, no header accepts all."""
    if not header or not header.strip():
        return True, True
    json_ok = sse_ok = False
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        media = media.lower()
        if any(p.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        if media in ("*/*", JSON, "application/*"):
            json_ok = True
        if media in ("*/*", sse.CONTENT_TYPE, "text/*"):
            sse_ok = True
    return json_ok, sse_ok


def is_json_content_type(header: str | None) -> bool:
    return bool(header) and header.split(";")[0].strip().lower() == JSON


async def admit(request: HttpRequest) -> RequestInfo:
    """Who is asking (token verified in MCP_AUTH=jwt or embedded mode), within their rate limit."""
    info = request_info(request)
    if hasattr(request, "scope"):
        # For the exchange's traffic record (mcp.ops.observe): marks, era.
        request.scope[scope_keys.INFO] = info
    await seam.admit(info)
    return info


async def read_body(request: HttpRequest) -> Any:
    """The body as JSON, within MCP_MAX_BODY_BYTES, MCP_MAX_JSON_DEPTH and MCP_MAX_STRING_BYTES;
    its JSON-RPC facts (``jsonrpc.facts``) are left in ``scope["mcp.rpc"]``."""
    if getattr(request, "scope", {}).get(scope_keys.BODY_TOO_LARGE):
        raise PayloadTooLarge(f"Payload Too Large: the body exceeds {settings.MCP_MAX_BODY_BYTES} bytes")
    # The MCP handler has read it already, within MCP_MAX_BODY_BYTES (Django's own read of
    # request.body checks the same limit again and copies it).
    body = getattr(request, "scope", {}).get(scope_keys.BODY)
    try:
        body = request.body if body is None else body
    except RequestDataTooBig:
        raise PayloadTooLarge(
            f"Payload Too Large: the body exceeds {settings.MCP_MAX_BODY_BYTES} bytes"
        ) from None
    except (ValueError, OSError):
        raise BadRequest("Bad Request: the body could not be read (is Content-Length a number?)") from None
    try:
        payload = jsonrpc.decode(
            body, max_depth=settings.MCP_MAX_JSON_DEPTH, max_string=settings.MCP_MAX_STRING_BYTES
        )
    except jsonrpc.JsonRpcError as exc:
        raise ParseError(exc.message) from None
    except jsonrpc.TooLarge as exc:
        raise PayloadTooLarge(f"Payload Too Large: {exc} (MCP_MAX_STRING_BYTES)") from None
    if hasattr(request, "scope"):
        # For the exchange's statistics and traffic record (mcp.ops.observe): no second parse.
        request.scope[scope_keys.RPC] = jsonrpc.facts(payload)
    return payload


def classify(payload: Any) -> jsonrpc.Message:
    """One JSON-RPC message, or InvalidMessage (400, with the id when it was readable)."""
    try:
        return jsonrpc.classify(payload)
    except jsonrpc.JsonRpcError as exc:
        raise InvalidMessage(exc) from None
