"""URIs compared as RFC 3986 section 6.2.3 says: the resource a token is for, the audience it
names, the resource indicator a client sends; and which Origins MCP_ALLOWED_ORIGINS admits
(pure, settings read)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_uri(value: str) -> str:
    """``value`` with scheme and host lower-cased, default port and fragment dropped.

    An empty http(s) path equals "/" (RFC 3986 6.2.3); the path is otherwise compared exactly, so a
    trailing slash makes a different URI. A value that is not an absolute URL is returned
    unchanged (an audience may be any string).
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return value
    if not parts.scheme or not parts.netloc or parts.hostname is None:
        return value
    scheme = parts.scheme.lower()
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{host}"
    path = parts.path or ("/" if scheme in DEFAULT_PORTS else "")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def origin_allowed(origin: str, host: str) -> bool:
    """True when ``origin`` is the server's own (``host``) or one MCP_ALLOWED_ORIGINS names."""
    allowed = settings.MCP_ALLOWED_ORIGINS
    if "*" in allowed:
        return True
    try:
        parts = urlsplit(origin)
        origin_host = parts.hostname
        origin_port = parts.port
    except ValueError:  # a malformed or out-of-range port, an unbalanced bracket
        return False
    if not parts.scheme or not origin_host:
        return False
    # The server's own origin (Host already validated) is never cross-site.
    if parts.netloc.lower() == host.lower():
        return True
    for entry in allowed:
        try:
            wanted = urlsplit(entry)
            wanted_port = wanted.port
        except ValueError:
            continue
        same_site = wanted.scheme == parts.scheme.lower() and (wanted.hostname or "") == origin_host.lower()
        if same_site and (wanted_port is None or wanted_port == origin_port):
            return True
    return False
