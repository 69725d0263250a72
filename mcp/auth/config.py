"""The resource server's configuration and what it tells clients: the mode's settings, the
resource's canonical URI, its Protected Resource Metadata (RFC 9728) and the
``WWW-Authenticate`` challenges (RFC 6750).

Pure apart from reading settings; knows nothing of tokens' verification (``mcp.auth.bearer``)
or of the embedded authorization server (``mcp.oauth``), which imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from mcp.errors import Unauthorized

PRM_PATH = "/.well-known/oauth-protected-resource"


# --- Configuration -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    resource_url: str
    audience: str
    issuer: str | None
    leeway: int
    algorithms: tuple[str, ...]
    secret: str | None
    public_key_file: str | None
    jwks_url: str | None
    jwks_cache_seconds: int
    required_scopes: tuple[str, ...]
    embedded: bool = False


def current_config() -> Config:
    resource = settings.MCP_RESOURCE_URL or ""
    return Config(
        resource_url=resource,
        audience=settings.MCP_JWT_AUDIENCE or resource,
        issuer=settings.MCP_JWT_ISSUER or None,
        leeway=settings.MCP_JWT_LEEWAY,
        algorithms=tuple(settings.MCP_JWT_ALGORITHMS or ()),
        secret=settings.MCP_JWT_SECRET or None,
        public_key_file=settings.MCP_JWT_PUBLIC_KEY_FILE or None,
        jwks_url=settings.MCP_JWKS_URL or None,
        jwks_cache_seconds=settings.MCP_JWKS_CACHE_SECONDS,
        required_scopes=tuple(settings.MCP_REQUIRED_SCOPES or ()),
        embedded=settings.MCP_AUTH == "embedded",
    )


def resource_metadata_url(resource_url: str | None = None) -> str:
    """The PRM URL of RFC 9728 section 3.1: the well-known path between origin and path."""
    parts = urlsplit(resource_url if resource_url is not None else settings.MCP_RESOURCE_URL or "")
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, PRM_PATH + path, "", ""))


def protected_resource_metadata() -> dict[str, Any]:
    """The RFC 9728 Protected Resource Metadata document of this server."""
    document: dict[str, Any] = {
        "resource": settings.MCP_RESOURCE_URL,
        "authorization_servers": list(settings.MCP_AUTHORIZATION_SERVERS),
        "bearer_methods_supported": ["header"],
        "resource_name": settings.MCP_SERVER_NAME,
    }
    if settings.MCP_REQUIRED_SCOPES:
        document["scopes_supported"] = list(settings.MCP_REQUIRED_SCOPES)
    return document


# --- Challenges ----------------------------------------------------------------------------


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(
    config: Config,
    *,
    error: str | None = None,
    description: str | None = None,
    scopes: tuple[str, ...] | None = None,
) -> str:
    """A ``WWW-Authenticate: Bearer`` value (RFC 6750 section 3, RFC 9728 section 5.1)."""
    params: list[str] = []
    if error:
        params.append(f"error={_quoted(error)}")
    scopes = config.required_scopes if scopes is None else scopes
    if scopes:
        params.append(f"scope={_quoted(' '.join(scopes))}")
    params.append(f"resource_metadata={_quoted(resource_metadata_url(config.resource_url))}")
    if description:
        params.append(f"error_description={_quoted(description)}")
    return "Bearer " + ", ".join(params)


def unauthorized(config: Config, description: str | None = None) -> Unauthorized:
    if description is None:
        # No credentials at all: RFC 6750 section 3.1 says no error code then.
        return Unauthorized(
            "Unauthorized: a bearer token is required",
            headers={"WWW-Authenticate": challenge(config)},
        )
    return Unauthorized(
        f"Unauthorized: {description}",
        headers={"WWW-Authenticate": challenge(config, error="invalid_token", description=description)},
    )
