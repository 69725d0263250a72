"""Bodies of the authorization server's POST endpoints: bounded, and refused in OAuth's terms.

Guarantees of ``bounded`` (wrapped around /oauth/token, /oauth/register, /oauth/revoke and the
consent form's POST to /oauth/authorize):

- A body over MCP_OAUTH_MAX_BODY_BYTES is answered 413 with an OAuth JSON error
  (``invalid_request``), decided from Content-Length before anything is read when the client
  sent one; a form with more fields than Django accepts (DATA_UPLOAD_MAX_NUMBER_FIELDS), or one
  that cannot be read, is answered 400 ``invalid_request``. Never Django's HTML error page.
- Each refusal is one INFO line on the ``mcp.oauth`` logger (a client's mistake, not the
  server's), naming the endpoint and the size; nothing of the body is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("mcp.oauth")

FORM = "application/x-www-form-urlencoded"


def oauth_error(
    error: str, description: str, status: int, headers: dict[str, str] | None = None
) -> JsonResponse:
    """An OAuth error body (RFC 6749 section 5.2), never cached."""
    return JsonResponse(
        {"error": error, "error_description": description},
        status=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def too_large(request: HttpRequest, size: int | str) -> JsonResponse:
    limit = settings.MCP_OAUTH_MAX_BODY_BYTES
    logger.info("%s refused: a body of %s bytes (MCP_OAUTH_MAX_BODY_BYTES=%d)", request.path, size, limit)
    return oauth_error(
        "invalid_request", f"the body exceeds {limit} bytes (MCP_OAUTH_MAX_BODY_BYTES)", status=413
    )


def body_problem(request: HttpRequest) -> JsonResponse | None:
    """The answer to a body this server will not read, or None once it is read and parsed."""
    limit = settings.MCP_OAUTH_MAX_BODY_BYTES
    if getattr(request, "scope", {}).get("mcp.body_too_large"):
        return too_large(request, "more than " + str(settings.MCP_MAX_BODY_BYTES))
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared.isdigit() and int(declared) > limit:
        return too_large(request, declared)
    try:
        size = len(request.body)
        if size > limit:
            return too_large(request, size)
        if (request.content_type or "") == FORM:
            request.POST  # noqa: B018 (parsed now, so that a refusal is answered here)
    except RequestDataTooBig:
        return too_large(request, declared or "unknown")
    except (SuspiciousOperation, ValueError, OSError) as exc:
        logger.info("%s refused: an unreadable body (%s)", request.path, type(exc).__name__)
        return oauth_error("invalid_request", "the body could not be read as a form or JSON", status=400)
    return None


def bounded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view``, once the body is within MCP_OAUTH_MAX_BODY_BYTES and readable."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return body_problem(request) or view(request, *args, **kwargs)

    return wrapper
