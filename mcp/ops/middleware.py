"""Middleware of the operator side (the full Django chain, never /mcp's).

- ``HostCheckMiddleware``: Django's Host validation, reported in MCP_ALLOWED_HOSTS terms
  (Django's own message names ALLOWED_HOSTS, which operators of this server never set). The
  probes (/health, /metrics) answer whatever Host they are sent: a balancer's health check and
  Prometheus address a replica by its own IP and port, and neither page builds a URL from the
  Host or changes anything.
- ``AsyncStreamingMiddleware``: hands a synchronous streaming response (static files) to the
  ASGI server as an async iterator, read in a worker thread, so Django does not warn on
  every static file it serves.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest
from django.http.request import split_domain_port, validate_host
from django.http.response import HttpResponseBase

logger = logging.getLogger("mcp.ops")


class _AsyncMiddleware:
    async_capable = True
    sync_capable = False

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)


PROBE_PATHS = frozenset({"/health", "/metrics"})


class HostCheckMiddleware(_AsyncMiddleware):
    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path in PROBE_PATHS:
            # Answered as if addressed by the loopback name, so Django's own Host checks (in
            # CommonMiddleware) pass too.
            request.META["HTTP_HOST"] = "localhost"
            request.META.pop("HTTP_X_FORWARDED_HOST", None)
            return await self.get_response(request)
        host = request._get_raw_host()
        domain, _ = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            logger.warning(
                "refused Host %r on %s: not in MCP_ALLOWED_HOSTS (%s) nor a loopback name",
                host[:100],
                request.path[:100],
                ",".join(settings.MCP_ALLOWED_HOSTS),
            )
            return HttpResponseBadRequest(
                "Bad Request: this Host is not in MCP_ALLOWED_HOSTS\n", content_type="text/plain"
            )
        return await self.get_response(request)


def _next_chunk(iterator: Iterator[bytes]) -> bytes | None:
    return next(iterator, None)


async def _read_in_thread(content: Iterable[bytes]) -> AsyncIterator[bytes]:
    iterator = iter(content)
    read = sync_to_async(_next_chunk, thread_sensitive=False)
    while (chunk := await read(iterator)) is not None:
        yield chunk


class AsyncStreamingMiddleware(_AsyncMiddleware):
    async def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.get_response(request)
        if getattr(response, "streaming", False) and not response.is_async:
            response.streaming_content = _read_in_thread(response.streaming_content)
        return response
