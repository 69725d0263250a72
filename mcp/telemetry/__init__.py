"""OpenTelemetry spans and metrics for MCP exchanges, by the MCP semantic conventions.

Off unless the standard variables configure an OTLP endpoint (``mcp.telemetry.config``).
``configure()`` runs once per process at start-up; while telemetry is off nothing of the
OpenTelemetry API or SDK is imported, and every call site tests the module flag first::

    if telemetry.ON:
        operation = telemetry.received(...)

so the cost of telemetry being off is one attribute lookup per message. The client-author
verdict on trace context (``carrier``) is pure and works either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.telemetry.tracing import ServerOperation

# True once configure() found something to export; read by the hot path, so a plain global.
ON = False


def configure() -> bool:
    """Read the process's OTEL_* variables (the SDK's exporters read them too) and start
    exporting if they ask for it; whether telemetry is now on. A bad value raises
    ImproperlyConfigured naming the variable. Calling it again replaces what an earlier call
    installed (tests)."""
    global ON
    from mcp.telemetry import config

    wanted = config.read()
    shutdown()
    if not wanted.on:
        return False
    from mcp.telemetry import tracing

    tracing.install(wanted)
    ON = True
    return True


def received(method: str, params: Mapping[str, Any], **details: Any) -> ServerOperation:
    """The SERVER span and timing of one MCP message received (only call when ``ON``);
    ``details`` are ``ServerOperation``'s keyword arguments."""
    from mcp.telemetry.tracing import ServerOperation

    return ServerOperation(method, params, **details)


def session_ended(seconds: float, protocol_version: str | None) -> None:
    """Record ``mcp.server.session.duration`` (only call when ``ON``)."""
    from mcp.telemetry import tracing

    tracing.session_ended(seconds, protocol_version)


def flush(timeout_ms: int = 5000) -> None:
    """Export what is pending now (tests, shut-down); nothing when off."""
    if ON:
        from mcp.telemetry import tracing

        tracing.installed().flush(timeout_ms)


def shutdown() -> None:
    """Flush and stop the exporters; telemetry is off afterwards."""
    global ON
    if ON:
        from mcp.telemetry import tracing

        tracing.uninstall()
    ON = False
