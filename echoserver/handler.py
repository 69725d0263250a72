"""An ASGI handler for the MCP endpoints that never pays a thread per request.

Django's ``ASGIHandler`` enters asgiref's ``ThreadSensitiveContext`` for every request and
closes each response with ``sync_to_async``, which creates and joins an OS thread per
request (measured: 1.9k req/s against 11.4k without). This subclass keeps everything else
Django does (request objects, URL resolution, views, disconnect handling for streaming
responses) and differs only where that cost lives:

- no ThreadSensitiveContext and no request_started/finished signals (the MCP views touch
  no database connection, which is all those signals manage);
- responses are closed in the event loop;
- the middleware chain is ``settings.MCP_MIDDLEWARE``, async-native classes only;
- the body is refused with 413 as soon as it passes MCP_MAX_BODY_BYTES, before it is
  buffered whole;
- the view runs in the server's own task: only a streaming response gets Django's
  disconnect listener (two tasks and a wait per request otherwise);
- each MCP path is resolved once (the MCP URLconf has no path parameters), and neither
  the URLconf nor the script prefix ("/") is written into context variables per request.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, RequestAborted
from django.core.handlers.asgi import ASGIHandler, ASGIRequest, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.urls import ResolverMatch, get_resolver, set_script_prefix
from django.utils.functional import cached_property
from django.utils.module_loading import import_string

from mcp import scope as scope_keys
from mcp.redact import describe_exception
from mcp.transport.security import RequestHeaders, header_map

logger = logging.getLogger("echoserver.handler")

# Distinct (URLconf, path) pairs whose resolution is kept; the MCP paths are a handful.
MAX_CACHED_MATCHES = 64


class BodyTooLarge(Exception):
    pass


class McpRequest(ASGIRequest):
    """Django's ASGI request with ``headers`` read straight from the scope's raw pairs (one
    dict, shared with ``mcp.transport.security.header_map``) instead of re-parsed out of ``META``."""

    @cached_property
    def headers(self) -> RequestHeaders:
        return header_map(self)


def close_quietly(response) -> None:
    """``response.close()`` minus the request_finished signal (no database to tidy here)."""
    for closer in response._resource_closers:
        try:
            closer()
        except Exception as exc:
            logger.warning("closing a response failed: %s", describe_exception(exc))
    response._resource_closers.clear()
    response.closed = True


def skip_body(receive):
    """A receive that discards the rest of a refused body, so only a disconnect gets through."""

    async def next_event():
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message

    return next_event


class McpASGIHandler(ASGIHandler):
    request_class = McpRequest

    def load_middleware(self, is_async: bool = False) -> None:
        self._matches: dict[tuple[str, str], ResolverMatch] = {}
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response_async)
        for path in reversed(settings.MCP_MIDDLEWARE):
            middleware = import_string(path)
            if not getattr(middleware, "async_capable", False):
                raise ImproperlyConfigured(f"MCP_MIDDLEWARE entry {path} must be async-capable")
            handler = convert_exception_to_response(middleware(handler))
        self._middleware_chain = handler

    async def get_response_async(self, request):
        """Django's, minus ``log_response`` in a thread for every status >= 400 (the MCP
        boundary, mcp.transport.http.guarded, already logs what deserves it, once, redacted)
        and minus resetting the URLconf to ROOT_URLCONF: ``resolve_request`` sets the MCP one
        for every request this handler serves.
        """
        response = await self._middleware_chain(request)
        response._resource_closers.append(request.close)
        return response

    async def _get_response_async(self, request):
        """Django's, minus what the MCP routes never use: this handler has no view,
        exception or template-response middleware, and the MCP views are coroutines that
        touch no database (no ATOMIC_REQUESTS wrapping). A sync view still works: it is
        handed to Django's own path.
        """
        callback, callback_args, callback_kwargs = self.resolve_request(request)
        if not iscoroutinefunction(callback):
            return await super()._get_response_async(request)
        response = await callback(request, *callback_args, **callback_kwargs)
        self.check_response(response, callback)
        return response

    def resolve_request(self, request):
        """Django's, with each MCP path resolved once: the MCP URLconf has no path parameters,
        so a path always resolves to the same match (views get copies of its kwargs).

        Unlike Django's, it does not make ``request.urlconf`` the active URLconf: no MCP view
        reverses or resolves URLs, and setting it costs a context-variable write per request
        (``reverse`` in an MCP view would use ROOT_URLCONF, which includes the MCP routes).
        """
        urlconf = request.urlconf
        key = (urlconf, request.path_info)
        match = self._matches.get(key)
        if match is None:
            match = get_resolver(urlconf).resolve(request.path_info)
            if len(self._matches) < MAX_CACHED_MATCHES:
                self._matches[key] = match
        request.resolver_match = match
        return match

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        scope[scope_keys.RECEIVED] = (time.time(), time.perf_counter())
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send) -> None:
        """One exchange, in the server's task: the view runs inline (no task per request);
        only a streaming response gets a disconnect listener beside it.

        A plain response has nothing to cancel when the client goes away: the MCP views that
        wait before answering (a POST awaiting its tool) must finish the work anyway (the
        client may resume), and the server drops what is sent to a closed connection.
        """
        try:
            body_file = await self.read_body(receive, scope)
        except RequestAborted:
            return
        except BodyTooLarge:
            # Answered by the view (mcp.transport.http.read_body), so middleware such as CORS
            # still decorates the 413 and a browser client can read it.
            scope[scope_keys.BODY_TOO_LARGE] = True
            body_file = io.BytesIO()
            receive = skip_body(receive)
        prefix = get_script_prefix(scope)
        if prefix != "/":  # "/" is what Django assumes when no prefix was set
            set_script_prefix(prefix)
        request, error_response_ = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response_, send)
            error_response_.close()
            return
        # Resolve against the MCP routes only: a few patterns instead of the whole site.
        request.urlconf = settings.MCP_URLCONF
        response = await self.run_get_response(request)
        if response.streaming:
            await self.stream_response(response, receive, send)
        else:
            await self.send_response(response, send)
        close_quietly(response)
        body_file.close()

    async def send_response(self, response, send) -> None:
        """Django's for a plain response without cookies (every MCP answer but streams): its
        headers and whole body in two messages, as Django would send a body of that size."""
        if response.streaming or response.cookies or len(response.content) > self.chunk_size:
            await super().send_response(response, send)
            return
        headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content, "more_body": False})

    async def stream_response(self, response, receive, send) -> None:
        """As Django does for every request: stop the stream when the client disconnects."""

        async def sending() -> None:
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while we were sending

        tasks = [asyncio.create_task(self.listen_for_disconnect(receive)), asyncio.create_task(sending())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    async def read_body(self, receive, scope=None):
        """The whole body, refused past MCP_MAX_BODY_BYTES; also left in ``scope["mcp.body"]``
        (what was read, even of a refused body) for the exchange's traffic record.

        Held in memory (a BytesIO): MCP_MAX_BODY_BYTES bounds it, and a temporary file per
        request costs more than the bodies MCP sends.
        """
        scope = {} if scope is None else scope
        limit = settings.MCP_MAX_BODY_BYTES
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                raise BodyTooLarge()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestAborted()
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if size > limit:
                scope[scope_keys.BODY] = b"".join(chunks)
                raise BodyTooLarge()
            if not message.get("more_body", False):
                break
        body = scope[scope_keys.BODY] = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return io.BytesIO(body)
