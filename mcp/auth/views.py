"""OAuth 2.0 Protected Resource Metadata (RFC 9728), served at both well-known locations.

Guarantees: the document is built from settings only (MCP_RESOURCE_URL,
MCP_AUTHORIZATION_SERVERS, MCP_REQUIRED_SCOPES), never from request headers; it is served
only when MCP_AUTH is "jwt" or "embedded" (404 JSON otherwise, so a client does not start an OAuth flow
against a server that ignores tokens).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from mcp.auth.config import protected_resource_metadata

ALLOW = "GET, HEAD, OPTIONS"


# Exempt so that any other method gets a clean 405, not a CSRF page; the view changes nothing.
@csrf_exempt
async def protected_resource_metadata_view(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return HttpResponse(status=204, headers={"Allow": ALLOW})
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            {"error": "method_not_allowed", "error_description": f"Allowed: {ALLOW}"},
            status=405,
            headers={"Allow": ALLOW},
        )
    if settings.MCP_AUTH == "none":
        return JsonResponse(
            {
                "error": "not_found",
                "error_description": "This server does not require authorization (MCP_AUTH=none)",
            },
            status=404,
        )
    return JsonResponse(protected_resource_metadata(), headers={"Cache-Control": "max-age=3600"})
