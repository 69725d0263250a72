from __future__ import annotations

from django.apps import AppConfig


class McpConfig(AppConfig):
    name = "mcp"
    verbose_name = "MCP echo server"
    default_auto_field = "django.db.models.BigAutoField"
