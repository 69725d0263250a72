from __future__ import annotations

from django.urls import path

from mcp import transport, views

app_name = "mcp"

urlpatterns = [
    path("mcp", transport.endpoint, name="endpoint"),
    path("health", views.health, name="health"),
]
