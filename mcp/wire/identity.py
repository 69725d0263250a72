"""Who this server says it is: the ``serverInfo`` of initialize and of 2026-07-28 results."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from echoserver import __version__


def server_info() -> dict[str, Any]:
    return {
        "name": settings.MCP_SERVER_NAME,
        "title": "MCP Echo Server (stateful)",
        "version": __version__,
    }
