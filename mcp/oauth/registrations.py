"""How many clients open registration (RFC 7591) may create: per client address, and in total.

Counted in the database (``Client.registered_from`` and ``created``), so every process and
every restart agrees. Guarantees:

- At most MCP_OAUTH_REGISTRATIONS_PER_ADDRESS registrations per client address in any
  MCP_OAUTH_REGISTRATION_WINDOW seconds, and at most MCP_OAUTH_MAX_CLIENTS registered clients
  in all; past either, 429 with an OAuth JSON error (``temporarily_unavailable``) and
  Retry-After. Concurrent registrations may pass a limit by the few in flight (counted, then
  created: no lock across processes).
- With MCP_OAUTH_MAX_BODY_BYTES bounding one registration's stored metadata, what open
  registration can store is bounded by MCP_OAUTH_MAX_CLIENTS x MCP_OAUTH_MAX_BODY_BYTES.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from mcp.oauth.bodies import oauth_error
from mcp.oauth.models import Client
from mcp.wire.peers import request_address

logger = logging.getLogger("mcp.oauth")

MAX_ADDRESS = 64


def client_address(request: HttpRequest) -> str:
    """The address registrations are counted under: the client's, behind trusted proxies the
    one they name (``mcp.wire.peers``), so a balancer's clients are not counted as one."""
    return request_address(request)[:MAX_ADDRESS]


def refusal(address: str) -> JsonResponse | None:
    """429 when ``address`` (or everyone) has registered enough; None otherwise."""
    registered = Client.objects.filter(source="dcr")
    if registered.count() >= settings.MCP_OAUTH_MAX_CLIENTS:
        logger.info("registration refused: %d clients registered (MCP_OAUTH_MAX_CLIENTS)", registered.count())
        return oauth_error(
            "temporarily_unavailable",
            f"this server holds at most {settings.MCP_OAUTH_MAX_CLIENTS} registered clients "
            "(MCP_OAUTH_MAX_CLIENTS)",
            status=429,
            headers={"Retry-After": str(int(settings.MCP_OAUTH_REGISTRATION_WINDOW))},
        )
    window = settings.MCP_OAUTH_REGISTRATION_WINDOW
    since = timezone.now() - timedelta(seconds=window)
    recent = registered.filter(registered_from=address, created__gte=since)
    limit = settings.MCP_OAUTH_REGISTRATIONS_PER_ADDRESS
    if recent.count() < limit:
        return None
    oldest = recent.order_by("created").values_list("created", flat=True).first()
    retry = window if oldest is None else (oldest - since).total_seconds()
    logger.info("registration refused: %s registered %d clients in %g s", address, limit, window)
    return oauth_error(
        "temporarily_unavailable",
        f"at most {limit} registrations per client address in {window:g} s "
        "(MCP_OAUTH_REGISTRATIONS_PER_ADDRESS, MCP_OAUTH_REGISTRATION_WINDOW)",
        status=429,
        headers={"Retry-After": str(max(1, int(retry) + 1))},
    )
