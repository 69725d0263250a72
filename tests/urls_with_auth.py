"""The project's URLs plus the Protected Resource Metadata, for tests (until echoserver.urls has them)."""

from __future__ import annotations

from django.urls import include, path

from echoserver.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("", include("mcp.auth_urls")),
    *project_urlpatterns,
]
