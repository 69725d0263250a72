"""The 2026-07-28 (stateless) era's wire rules that are not HTTP: markers, ``_meta``, results.

Pure functions over plain dicts (settings passed in or read, no Django request), used by the
stateless transport and its method table:

- ``has_modern_markers``: whether a request belongs to the stateless era (the era switch).
- ``read_meta``: the per-request ``_meta`` every 2026-07-28 request carries (-32602, HTTP 400,
  when the protocol version or client capabilities are missing).
- ``finish_result``: what every stateless result carries (``resultType``, the server's
  identity in ``_meta``, and on cacheable methods ``ttlMs``/``cacheScope``, the same on
  every page and for every caller).
- ``discover``: the ``server/discover`` result, listing every version this server speaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from mcp.errors import InvalidMeta, UnsupportedProtocolVersion
from mcp.wire import identity
from mcp.wire.protocol import LOG_LEVELS

PREFIX = "io.modelcontextprotocol/"
PROTOCOL_VERSION = PREFIX + "protocolVersion"
CLIENT_CAPABILITIES = PREFIX + "clientCapabilities"
CLIENT_INFO = PREFIX + "clientInfo"
LOG_LEVEL = PREFIX + "logLevel"
SERVER_INFO = PREFIX + "serverInfo"
SUBSCRIPTION_ID = PREFIX + "subscriptionId"
TASKS_EXTENSION = PREFIX + "tasks"

# Extensions this server offers to 2026-07-28 clients (capabilities.extensions).
EXTENSIONS: dict[str, Any] = {TASKS_EXTENSION: {}}

# Results clients may cache (2026-07-28 server/utilities/caching), and for whom.
CACHE_SCOPES = {
    "server/discover": "public",
    "tools/list": "public",
    "prompts/list": "public",
    "resources/list": "public",
    "resources/templates/list": "public",
    # A resource's contents may be the caller's own (session://, calculator history).
    "resources/read": "private",
    # The skills extension: the same catalog for every caller.
    "skills/list": "public",
    "skills/get": "public",
}


def modern_version() -> str:
    return settings.MODERN_PROTOCOL_VERSION


def supported_versions() -> list[str]:
    """Every version this endpoint speaks, newest first: the stateless one, then the session ones."""
    session_versions = list(settings.MCP_PROTOCOL_VERSIONS_SUPPORTED)
    return [modern_version(), *session_versions] if settings.MCP_STATELESS else session_versions


def has_modern_markers(header_version: str | None, payload: Any) -> bool:
    """A request is of the stateless era when its header names 2026-07-28 or its ``_meta``
    carries an ``io.modelcontextprotocol/`` key; everything else is session-era traffic."""
    if header_version is not None and header_version.strip() == modern_version():
        return True
    if not isinstance(payload, dict):
        return False
    params = payload.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    return isinstance(meta, dict) and any(isinstance(key, str) and key.startswith(PREFIX) for key in meta)


@dataclass(slots=True)
class RequestMeta:
    protocol_version: str
    capabilities: dict[str, Any]
    client_info: dict[str, Any] = field(default_factory=dict)
    log_level: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def declared(self, capability: str) -> bool:
        return isinstance(self.capabilities.get(capability), dict)


def read_meta(params: dict[str, Any]) -> RequestMeta:
    """The request's ``_meta``; InvalidMeta when a required field is missing or mistyped."""
    meta = params.get("_meta")
    if not isinstance(meta, dict):
        raise InvalidMeta(
            "Invalid params: _meta with the protocol version and client capabilities is required"
        )
    version = meta.get(PROTOCOL_VERSION)
    if not isinstance(version, str) or not version:
        raise InvalidMeta(f"Invalid params: _meta[{PROTOCOL_VERSION!r}] is required")
    capabilities = meta.get(CLIENT_CAPABILITIES)
    if not isinstance(capabilities, dict):
        raise InvalidMeta(f"Invalid params: _meta[{CLIENT_CAPABILITIES!r}] must be an object")
    client_info = meta.get(CLIENT_INFO)
    if client_info is not None and not isinstance(client_info, dict):
        raise InvalidMeta(f"Invalid params: _meta[{CLIENT_INFO!r}] must be an object")
    level = meta.get(LOG_LEVEL)
    if level is not None and level not in LOG_LEVELS:
        raise InvalidMeta(f"Invalid params: _meta[{LOG_LEVEL!r}] must be one of {', '.join(LOG_LEVELS)}")
    return RequestMeta(version, capabilities, client_info or {}, level, meta)


def check_version(meta: RequestMeta) -> None:
    if not settings.MCP_STATELESS or meta.protocol_version != modern_version():
        raise UnsupportedProtocolVersion(meta.protocol_version, supported_versions())


def server_meta() -> dict[str, Any]:
    return {SERVER_INFO: identity.server_info()}


def cache_hints(method: str) -> dict[str, Any]:
    scope = CACHE_SCOPES.get(method)
    return {} if scope is None else {"ttlMs": settings.MCP_CACHE_TTL_MS, "cacheScope": scope}


def finish_result(method: str, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` as the stateless era sends it: resultType, serverInfo, caching hints."""
    finished = {**result, **cache_hints(method)}
    finished.setdefault("resultType", "complete")
    meta = finished.get("_meta")
    finished["_meta"] = {**server_meta(), **(meta if isinstance(meta, dict) else {})}
    return finished


def modern_capabilities(capabilities: dict[str, Any], extensions: dict[str, Any]) -> dict[str, Any]:
    """The session era's capabilities as 2026-07-28 states them (tasks are an extension there)."""
    modern = {key: value for key, value in capabilities.items() if key != "tasks"}
    if extensions:
        modern["extensions"] = extensions
    return modern
