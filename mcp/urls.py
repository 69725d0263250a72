from __future__ import annotations

from django.urls import path

from mcp import views
from mcp.transport import endpoint, legacy

app_name = "mcp"

urlpatterns = [
    path("mcp", endpoint.endpoint, name="endpoint"),
    path("sse", legacy.sse_endpoint, name="legacy-sse"),
    path("messages", legacy.messages_endpoint, name="legacy-messages"),
    path("health", views.health, name="health"),
]
