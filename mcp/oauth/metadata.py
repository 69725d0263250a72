"""RFC 8414 Authorization Server Metadata of the embedded authorization server.

Built from settings only (never from request headers), and checked by Authlib's
``AuthorizationServerMetadata.validate`` so that what clients read is well-formed.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
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
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": bool(settings.MCP_OAUTH_CIMD_ALLOWED_HOSTS),
    }
    if not settings.MCP_OAUTH_DCR:
        del document["registration_endpoint"]
    AuthorizationServerMetadata(document).validate()
    return document


# RFC 7591 section 2: the type of each metadata field we read. Checked before Authlib's
# validation, which assumes the types and would fail on, say, a number where a list belongs.
STRING_FIELDS = frozenset(
    {
        "client_name",
        "client_uri",
        "logo_uri",
        "scope",
        "tos_uri",
        "policy_uri",
        "jwks_uri",
        "software_id",
        "software_version",
        "token_endpoint_auth_method",
    }
)
LIST_FIELDS = frozenset({"redirect_uris", "grant_types", "response_types", "contacts"})
MAX_FIELD = 2048


def metadata_problem(body: bytes) -> str | None:
    """Why a registration body is not a client metadata object (a fixed text), or None."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "the body is not JSON (or is nested too deeply)"
    if not isinstance(document, dict):
        return "the body is not a JSON object"
    for name, value in document.items():
        if name in STRING_FIELDS and not (isinstance(value, str) and len(value) <= MAX_FIELD):
            return f"{name} must be a string of at most {MAX_FIELD} characters"
        if name in LIST_FIELDS and not (
            isinstance(value, list)
            and len(value) <= 32
            and all(isinstance(item, str) and len(item) <= MAX_FIELD for item in value)
        ):
            return f"{name} must be a list of at most 32 strings"
    return None
