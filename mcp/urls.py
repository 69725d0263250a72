from __future__ import annotations

from django.urls import path

from mcp.transport import endpoint, legacy

app_name = "mcp"

urlpatterns = [
    path("mcp", endpoint.endpoint, name="endpoint"),
    path("sse", legacy.sse_endpoint, name="legacy-sse"),
    path("messages", legacy.messages_endpoint, name="legacy-messages"),
]
