"""Per-client request rate limit. Placeholder interface."""

from __future__ import annotations


async def check_rate(client: str) -> None:
    """Count one request for ``client``; raise TooManyRequests (429, Retry-After) past MCP_RATE_LIMIT."""
