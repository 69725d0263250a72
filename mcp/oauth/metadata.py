"""RFC 8414 Authorization Server Metadata of the embedded authorization server.

Built from settings only (never from request headers), and checked by Authlib's
``AuthorizationServerMetadata.validate`` so that what clients read is well-formed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from django.conf import settings

ENDPOINTS = {
    "authorization_endpoint": "/oauth/authorize",
    "token_endpoint": "/oauth/token",
    "registration_endpoint": "/oauth/register",
    "revocation_endpoint": "/oauth/revoke",
    "jwks_uri": "/oauth/jwks.json",
}
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def scopes_supported() -> list[str]:
    scopes = list(settings.MCP_REQUIRED_SCOPES)
    if settings.MCP_OAUTH_STEP_UP_SCOPE not in scopes:
        scopes.append(settings.MCP_OAUTH_STEP_UP_SCOPE)
    return scopes


@lru_cache(maxsize=1)
def server_metadata() -> dict[str, Any]:
    issuer = settings.MCP_OAUTH_ISSUER
    document: dict[str, Any] = {
        "issuer": issuer,
        **{name: issuer + path for name, path in ENDPOINTS.items()},
        "scopes_supported": scopes_supported(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": bool(settings.MCP_OAUTH_CIMD_ALLOWED_HOSTS),
    }
    if not settings.MCP_OAUTH_DCR:
        del document["registration_endpoint"]
    AuthorizationServerMetadata(document).validate()
    return document
