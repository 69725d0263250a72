"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, MCP 2025-11-25).

A client whose ``client_id`` is a URL is resolved by fetching that URL. Guarantees:

- Only hosts the operator lists in MCP_OAUTH_CIMD_ALLOWED_HOSTS are ever fetched (``host`` or
  ``host:port``); nothing is fetched when the list is empty. The URL must use https, or http on
  a loopback host (127.0.0.1, localhost, [::1]); it needs a path, and no user info, query or
  fragment. Redirects are not followed; each read times out (FETCH_TIMEOUT) and the whole fetch ends
  within FETCH_DEADLINE seconds; at most MAX_DOCUMENT bytes are read.
- The document must be a JSON object whose ``client_id`` equals the URL exactly, with a
  ``client_name`` and ``redirect_uris`` (https or loopback http), a public client
  (``token_endpoint_auth_method`` "none"), and valid RFC 7591 metadata otherwise.
- A document is cached (as a Client row) for its Cache-Control max-age, at most
  MCP_OAUTH_CIMD_CACHE_SECONDS; ``no-store`` or ``no-cache`` means fetched on every use.
- Every refusal is ``invalid_client`` with a fixed description; nothing of the fetched body
  reaches a client, a page or a log line.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import re
import socket
import ssl
import threading
from datetime import timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7591 import ClientMetadataClaims
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from mcp.oauth.models import Client
from mcp.oauth.policy import is_acceptable_redirect_uri, is_loopback

logger = logging.getLogger("mcp.oauth.cimd")

FETCH_TIMEOUT = 5.0
# The whole fetch, however slowly the host answers (a drip of bytes resets FETCH_TIMEOUT).
FETCH_DEADLINE = 5.0
MAX_DOCUMENT = 64 * 1024
_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)", re.IGNORECASE)


class Refused(Exception):
    """Why a metadata document was not accepted; the message is a fixed text."""


def is_metadata_url(client_id: str) -> bool:
    return client_id[:8].lower().startswith(("https://", "http://"))


def check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("the client_id is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(host)):
        raise Refused("a metadata document URL must use https (or http on a loopback host)")
    if parts.path in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise Refused("a metadata document URL needs a path and no query, fragment or user info")
    allowed = {entry.lower() for entry in settings.MCP_OAUTH_CIMD_ALLOWED_HOSTS}
    shown_host = f"[{host}]" if ":" in host else host
    if shown_host not in allowed and (port is None or f"{shown_host}:{port}" not in allowed):
        raise Refused("metadata documents from this host are not accepted (MCP_OAUTH_CIMD_ALLOWED_HOSTS)")


@lru_cache(maxsize=4)
def tls_context(ca_file: str) -> ssl.SSLContext:
    """The system's trust, plus MCP_OAUTH_CIMD_CA_FILE when set (e.g. a test CA)."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError):
            raise ImproperlyConfigured(
                f"MCP_OAUTH_CIMD_CA_FILE {ca_file!r} holds no readable CA certificate"
            ) from None
    return context


class _Watchdog:
    """Shuts the connection's socket down at the deadline, whatever the reading thread is
    blocked in (connect, TLS, a header line, the body): a per-read timeout alone lets a host
    that drips a byte at a time hold the fetch for ever."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self.sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        if self.sock is not None:
            with contextlib.suppress(OSError):
                # The plain socket's shutdown, also under TLS: it wakes the blocked read.
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    timeout = min(FETCH_TIMEOUT, FETCH_DEADLINE)
    if parts.scheme == "https":
        context = tls_context(settings.MCP_OAUTH_CIMD_CA_FILE)
        return http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=context
        ), parts.path
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout), parts.path


def fetch(url: str) -> tuple[dict[str, Any], int]:
    """The document and how many seconds it may be cached; Refused otherwise. The whole
    fetch (connect, TLS, headers, body) ends within FETCH_DEADLINE seconds; redirects are not
    followed (http.client never follows them)."""
    watchdog = _Watchdog(FETCH_DEADLINE)
    connection, path = _connection(url)
    try:
        connection.connect()
        watchdog.sock = connection.sock
        if watchdog.expired:
            raise OSError("deadline")
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        status = response.status
        cache_control = response.headers.get("Cache-Control", "")
        body = response.read(MAX_DOCUMENT + 1)
    except (http.client.HTTPException, OSError, ValueError):
        if watchdog.expired:
            raise Refused(f"the metadata document was not fetched within {FETCH_DEADLINE:g} s") from None
        raise Refused("the metadata document could not be fetched") from None
    finally:
        watchdog.cancel()
        connection.close()
    if watchdog.expired:
        raise Refused(f"the metadata document was not fetched within {FETCH_DEADLINE:g} s")
    if status != 200:
        raise Refused(f"the metadata document URL answered HTTP {status}")
    if len(body) > MAX_DOCUMENT:
        raise Refused("the metadata document is too large")
    try:
        document = json.loads(body)
    except ValueError:
        raise Refused("the metadata document is not JSON") from None
    if not isinstance(document, dict):
        raise Refused("the metadata document is not a JSON object")
    seconds = settings.MCP_OAUTH_CIMD_CACHE_SECONDS
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        seconds = 0
    elif match := _MAX_AGE.search(cache_control):
        seconds = min(seconds, int(match.group(1)))
    return document, seconds


def validate(url: str, document: dict[str, Any]) -> dict[str, Any]:
    """The client metadata to keep; Refused unless the document is acceptable."""
    if document.get("client_id") != url:
        raise Refused("the metadata document's client_id does not equal its URL")
    if not isinstance(document.get("client_name"), str) or not document["client_name"].strip():
        raise Refused("the metadata document has no client_name")
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(is_acceptable_redirect_uri(uri) for uri in uris):
        raise Refused("the metadata document needs redirect_uris using https or loopback http")
    if any(name in document for name in ("client_secret", "client_secret_expires_at")):
        raise Refused("a metadata document must not carry a client secret")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise Refused("this server accepts metadata documents of public clients only (auth method 'none')")
    claims = ClientMetadataClaims(document, {})
    try:
        claims.validate()
    except Exception:
        raise Refused("the metadata document holds invalid client metadata") from None
    return {**claims.get_registered_claims(), "token_endpoint_auth_method": "none"}


def resolve(url: str) -> Client:
    """The Client for a URL client_id, fetched (or cached); InvalidClientError if refused."""
    now = timezone.now()
    cached = Client.objects.filter(client_id=url, source="cimd").first()
    if cached is not None and cached.metadata_expires is not None and cached.metadata_expires > now:
        return cached
    try:
        check_url(url)
        document, seconds = fetch(url)
        metadata = validate(url, document)
    except Refused as exc:
        logger.warning("client metadata document %r refused: %s", url[:200], exc)
        raise InvalidClientError(description=f"Client ID Metadata Document refused: {exc}.") from None
    client = cached or Client(client_id=url, source="cimd")
    client.client_name = str(metadata.get("client_name", ""))[:200]
    client.metadata = metadata
    client.metadata_fetched = now
    client.metadata_expires = now + timedelta(seconds=seconds)
    client.save()
    return client
