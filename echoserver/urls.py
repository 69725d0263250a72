from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("mcp.ops.urls")),
    path("", include("mcp.urls")),
    path("", include("mcp.auth.urls")),
    path("", include("mcp.oauth.urls")),
    path("", include("mcp.traffic.export")),
]
