from __future__ import annotations

from django.urls import path

from mcp.ops import health, status
from mcp.ops import prometheus as metrics

app_name = "ops"

urlpatterns = [
    path("health", health.health, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
    path("status", status.status_page, name="status"),
    path("status.json", status.status_feed, name="status-feed"),
]
