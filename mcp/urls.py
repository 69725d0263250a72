from __future__ import annotations

from django.urls import path

from mcp import legacy, transport, views

app_name = "mcp"

urlpatterns = [
    path("mcp", transport.endpoint, name="endpoint"),
    path("sse", legacy.sse_endpoint, name="legacy-sse"),
    path("messages", legacy.messages_endpoint, name="legacy-messages"),
    path("health", views.health, name="health"),
]
