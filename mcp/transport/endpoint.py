"""``/mcp``: the era switch.

One URL serves two protocol eras. The era is decided from the request's markers before any
session lookup (never from its method name):

- modern (2026-07-28, stateless): an ``MCP-Protocol-Version`` header naming a modern version,
  or modern keys (``io.modelcontextprotocol/...``) in the request's ``params._meta``;
- otherwise the 2025 era (sessions): ``initialize``, ``Mcp-Session-Id``, GET stream, DELETE.

Each era has its module (``sessions``, ``stateless``); what they share lives in ``http``
(boundary, headers, admission, body) and ``events`` (SSE sources).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from mcp import scope as scope_keys
from mcp.errors import MethodNotAllowed, NotAcceptable, UnsupportedMediaType
from mcp.transport import sessions, stateless
from mcp.transport.http import admit, guarded, is_json_content_type, parse_accept, read_body
from mcp.transport.responses import empty_response
from mcp.wire.protocol import MODERN_META_KEYS, MODERN_VERSIONS, PROTOCOL_HEADER

ALLOW = "GET, POST, DELETE, OPTIONS"


def modern_header(request: HttpRequest) -> bool:
    return request.headers.get(PROTOCOL_HEADER) in MODERN_VERSIONS


def is_modern(request: HttpRequest, payload: Any) -> bool:
    """Whether a POST belongs to the stateless era (header or ``_meta`` markers)."""
    if modern_header(request):
        return True
    params = payload.get("params") if isinstance(payload, dict) else None
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and any(key in meta for key in MODERN_META_KEYS)


@csrf_exempt
@guarded
async def endpoint(request: HttpRequest) -> HttpResponseBase:
    if request.method == "POST":
        return await post(request)
    if request.method == "OPTIONS":
        return empty_response(204, {"Allow": ALLOW})
    if request.method in ("GET", "DELETE"):
        if modern_header(request):
            return await stateless.other(request)
        return await (sessions.get(request) if request.method == "GET" else sessions.delete(request))
    raise MethodNotAllowed(headers={"Allow": ALLOW})


async def post(request: HttpRequest) -> HttpResponseBase:
    if not is_json_content_type(request.headers.get("Content-Type")):
        raise UnsupportedMediaType()
    accepts_json, accepts_sse = parse_accept(request.headers.get("Accept"))
    if not (accepts_json or accepts_sse):
        raise NotAcceptable()
    info = await admit(request)
    payload = await read_body(request)
    era = stateless if is_modern(request, payload) else sessions
    if hasattr(request, "scope"):
        request.scope[scope_keys.ERA] = "2026" if era is stateless else "2025"
    return await era.post(request, info, payload, accepts_json, accepts_sse)
