from __future__ import annotations

from django.apps import AppConfig


class McpConfig(AppConfig):
    name = "mcp"
    verbose_name = "MCP echo server"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Load the enabled toolsets now: an unknown name in MCP_TOOLSETS stops start-up with
        # one line naming the variable, instead of failing every request later.
        from mcp.ops.logs import lean_records
        from mcp.telemetry import config as telemetry_config
        from mcp.tools import get_registry

        get_registry()
        lean_records()
        # Likewise a malformed OTEL_* value (telemetry itself starts with each serving process).
        telemetry_config.read()
