"""What one HTTP request carried, as a plain snapshot the transport takes (no Django objects).

Handlers, tools, faults and the auth checks read it; nothing below the transport sees the
Django request itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RequestInfo:
    http_method: str
    path: str
    headers: dict[str, str]
    client_addr: str = ""
    scheme: str = "http"
    received_at: float = field(default_factory=time.time)
    started: float = field(default_factory=time.perf_counter)
    principal: str | None = None
    # Verified token claims in MCP_AUTH=jwt or embedded mode; None when no token was verified.
    auth: dict[str, Any] | None = None
    # What was done to this exchange on purpose (injected faults), for its traffic record.
    marks: list[str] = field(default_factory=list)
    # The first message's params._meta ({} without one) and its telemetry span, when traced
    # (``mcp.dispatch.traced``), for the exchange's traffic record.
    meta: Any = None
    trace: Any = None
    # The message the policy seam's step-up check last let through (mcp.policy.seam.step_up).
    stepped_up: Any = None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)
