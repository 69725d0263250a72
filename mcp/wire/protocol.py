"""MCP wire constants and version negotiation (pure, settings passed in)."""

from __future__ import annotations

import re

SESSION_HEADER = "Mcp-Session-Id"
PROTOCOL_HEADER = "MCP-Protocol-Version"
LAST_EVENT_ID_HEADER = "Last-Event-ID"

# Visible ASCII only (0x21-0x7E), as the transport spec requires; bounded length.
SESSION_ID_RE = re.compile(r"^[\x21-\x7e]{1,128}$")

LATEST = "2025-11-25"
# The stateless era (2026-07-28): no sessions; each request carries these ``_meta`` keys.
MODERN_VERSIONS = ("2026-07-28",)
MODERN_META_KEYS = ("io.modelcontextprotocol/protocolVersion", "io.modelcontextprotocol/clientCapabilities")
# Versions at which a feature appeared; compare with plain string order (ISO dates).
BATCHES_ONLY_IN = "2025-03-26"
PRIMING_SINCE = "2025-11-25"
# When neither the header nor a session says otherwise (transport spec).
ASSUMED_WITHOUT_HEADER = "2025-03-26"

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
LOG_RANK = {level: rank for rank, level in enumerate(LOG_LEVELS)}


def negotiate(requested: object, supported: list[str], preferred: str) -> str:
    """The version to answer ``initialize`` with: the client's if supported, else ``preferred``.

    Never an error: the client decides whether it can live with the answer.
    """
    if isinstance(requested, str) and requested in supported:
        return requested
    return preferred


def valid_session_id(value: str) -> bool:
    return bool(SESSION_ID_RE.match(value))
