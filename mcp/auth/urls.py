"""URLs of the Protected Resource Metadata: the path form for /mcp and the root form.

Include with ``path("", include("mcp.auth.urls"))``; no namespace, so it sits beside
``mcp.urls``.
"""

from __future__ import annotations

from django.urls import path

from mcp.auth.views import protected_resource_metadata_view

urlpatterns = [
    path(
        ".well-known/oauth-protected-resource",
        protected_resource_metadata_view,
        name="oauth-protected-resource",
    ),
    path(
        ".well-known/oauth-protected-resource/mcp",
        protected_resource_metadata_view,
        name="oauth-protected-resource-mcp",
    ),
]
