"""URLs of the embedded authorization server; include with ``path("", include("mcp.oauth.urls"))``."""

from __future__ import annotations

from django.urls import path, re_path

from mcp.oauth import views

urlpatterns = [
    # RFC 8414 section 3.1: the well-known path, with the issuer's path (if any) inserted after it.
    re_path(
        r"^\.well-known/oauth-authorization-server(?:/.*)?$",
        views.authorization_server_metadata,
        name="oauth-authorization-server",
    ),
    path("oauth/authorize", views.authorize, name="oauth-authorize"),
    path("oauth/token", views.token, name="oauth-token"),
    path("oauth/register", views.register, name="oauth-register"),
    path("oauth/revoke", views.revoke, name="oauth-revoke"),
    path("oauth/jwks.json", views.jwks, name="oauth-jwks"),
]
