"""Who is asking, and whether to let them in: client address, Host and Origin checks.

DNS-rebinding protection (transport spec): a request whose Host is not in
MCP_ALLOWED_HOSTS, or whose Origin is neither allowed (MCP_ALLOWED_ORIGINS) nor the
server's own origin, gets 403 before any MCP processing. X-Forwarded-* headers count only
when the peer is a configured proxy (MCP_TRUSTED_PROXIES).
"""

from __future__ import annotations

import re
import time
from typing import Any

from asgiref.sync import markcoroutinefunction
from corsheaders.conf import conf as cors_conf
from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host
from django.http.response import HttpResponseBase

from mcp import scope as scope_keys
from mcp.errors import Forbidden
from mcp.transport.responses import error_response
from mcp.wire.peers import client_address, is_trusted_proxy
from mcp.wire.request import RequestInfo
from mcp.wire.uri import origin_allowed


class RequestHeaders(dict):
    """Request headers under lower-case names (repeated ones joined with ", "), looked up in
    any case, as Django's ``request.headers`` is; read-only by convention (it is shared)."""

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())


def scope_headers(raw: Any) -> RequestHeaders:
    """``RequestHeaders`` of an ASGI scope's raw header pairs."""
    headers = RequestHeaders()
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        value = value_bytes.decode("latin-1")
        if dict.__contains__(headers, name):
            value = f"{dict.__getitem__(headers, name)}, {value}"
        dict.__setitem__(headers, name, value)
    return headers


def header_map(request: HttpRequest) -> dict[str, str]:
    """Request headers as sent: lower-case names, repeated headers joined with ", ".

    Built once per request (the Host/Origin check and ``request_info`` both need it); the
    dict is shared, so callers read it and never change it.
    """
    cached = request.__dict__.get("_mcp_header_map")
    if cached is not None:
        return cached
    raw = request.scope.get("headers") if hasattr(request, "scope") else None
    if raw is None:
        headers = RequestHeaders((name.lower(), value) for name, value in request.headers.items())
    else:
        headers = scope_headers(raw)
    request._mcp_header_map = headers
    return headers


def request_info(request: HttpRequest) -> RequestInfo:
    scope = getattr(request, "scope", {})
    headers = header_map(request)
    peer = (scope.get("client") or ("", 0))[0] or request.META.get("REMOTE_ADDR", "")
    scheme = scope.get("scheme", "http")
    if peer and is_trusted_proxy(peer) and headers.get("x-forwarded-proto"):
        scheme = headers["x-forwarded-proto"].split(",")[0].strip().lower()
    received = scope.get(scope_keys.RECEIVED) or (time.time(), time.perf_counter())
    return RequestInfo(
        http_method=request.method or "",
        path=request.path,
        headers=headers,
        client_addr=client_address(peer, headers),
        scheme=scheme,
        received_at=received[0],
        started=received[1],
    )


def effective_host(request: HttpRequest, headers: dict[str, str]) -> str:
    peer = (getattr(request, "scope", {}).get("client") or ("", 0))[0]
    forwarded = headers.get("x-forwarded-host")
    if forwarded and peer and is_trusted_proxy(peer):
        return forwarded.split(",")[0].strip()
    return headers.get("host", "")


# Host header value -> allowed by MCP_ALLOWED_HOSTS; a handful of values in practice, bounded
# against a client cycling through Host values; forgotten when the setting changes.
_host_verdicts: dict[str, bool] = {}
MAX_HOST_VERDICTS = 256


def host_allowed(host: str) -> bool:
    verdict = _host_verdicts.get(host)
    if verdict is None:
        domain, _ = split_domain_port(host)
        verdict = bool(domain) and validate_host(domain, settings.MCP_ALLOWED_HOSTS)
        if len(_host_verdicts) < MAX_HOST_VERDICTS:
            _host_verdicts[host] = verdict
    return verdict


def host_origin_problem(request: HttpRequest) -> str | None:
    """Why the request must be refused (DNS rebinding), or None."""
    headers = header_map(request)
    host = effective_host(request, headers)
    if not host_allowed(host):
        return f"Forbidden: Host {host[:100]!r} is not allowed (configure MCP_ALLOWED_HOSTS)"
    origin = headers.get("origin")
    if origin is not None and not origin_allowed(origin, host):
        return f"Forbidden: Origin {origin[:100]!r} is not allowed (configure MCP_ALLOWED_ORIGINS)"
    return None


class HostOriginMiddleware:
    """Async-native: refuses disallowed Host/Origin with 403 on the MCP endpoints."""

    async_capable = True
    sync_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        problem = host_origin_problem(request)
        if problem is not None:
            return error_response(Forbidden(problem))
        return await self.get_response(request)


class McpCorsMiddleware(CorsMiddleware):
    """django-cors-headers' middleware with CORS_URLS_REGEX matched once per path (the MCP
    paths are a few; its own ``is_enabled`` reads the setting and matches on every request).
    Everything else, headers and preflight answers included, is the library's.
    """

    def is_enabled(self, request: HttpRequest) -> bool:
        path = request.path_info
        enabled = _cors_paths.get(path)
        if enabled is None:
            enabled = bool(re.match(cors_conf.CORS_URLS_REGEX, path))
            if len(_cors_paths) < MAX_HOST_VERDICTS:
                _cors_paths[path] = enabled
        return enabled or self.check_signal(request)


_cors_paths: dict[str, bool] = {}


@receiver(setting_changed)
def _forget_verdicts(*, setting: str, **_: object) -> None:
    if setting == "MCP_ALLOWED_HOSTS":
        _host_verdicts.clear()
    elif setting == "CORS_URLS_REGEX":
        _cors_paths.clear()
