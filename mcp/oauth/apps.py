from __future__ import annotations

from django.apps import AppConfig


class OAuthConfig(AppConfig):
    name = "mcp.oauth"
    label = "oauth"
    verbose_name = "OAuth: embedded authorization server"
    default_auto_field = "django.db.models.BigAutoField"
