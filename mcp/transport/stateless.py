"""The 2026-07-28 era of ``/mcp``: stateless requests (no session, ``_meta`` on every request).

Not served yet: a modern request is refused with 400, naming the versions this server speaks.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from mcp.context import RequestInfo
from mcp.errors import BadRequest, MethodNotAllowed


def _unsupported() -> BadRequest:
    return BadRequest(
        "Bad Request: unsupported MCP-Protocol-Version '2026-07-28'; supported: "
        + ", ".join(settings.MCP_PROTOCOL_VERSIONS_SUPPORTED)
    )


async def post(
    request: HttpRequest, info: RequestInfo, payload: Any, accepts_json: bool, accepts_sse: bool
) -> HttpResponseBase:
    raise _unsupported()


async def other(request: HttpRequest) -> HttpResponseBase:
    """GET and DELETE have no meaning without sessions."""
    raise MethodNotAllowed(headers={"Allow": "POST"})
