from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """A Django app of its own, so its unmanaged admin model lives beside other apps' models."""

    name = "mcp.ops"
    label = "ops"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mcp import figures
        from mcp.ops import stats

        # /status and its feed read the same figures /metrics does, recorded once: this
        # process's statistics backend is itself a recorder (``mcp.figures.Recorder``).
        figures.add_recorder(stats.get_stats())
