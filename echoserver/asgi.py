"""The ASGI application: MCP endpoints on a thread-free handler, everything else on Django's.

Both halves are Django (settings, URL resolution, views); they differ only in the handler
(see ``echoserver.handler``) and the middleware chain. Also answers ASGI lifespan, which
Django's handler does not, to start and stop the in-process session sweeper.
"""

from __future__ import annotations

import os
import sys

import django
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "echoserver.settings")
try:
    django.setup(set_prefix=False)
except ImproperlyConfigured as exc:
    # One line naming the variable, whichever server imports the application.
    sys.exit(f"configuration error: {exc}")

from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from echoserver.handler import McpASGIHandler
from mcp.ops.observe import Observer
from mcp.process import lifecycle


class Application:
    def __init__(self) -> None:
        self.mcp = McpASGIHandler()
        self.django = ASGIHandler()
        self.mcp_paths = frozenset(settings.MCP_PATHS)

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            if not lifecycle.started:
                await lifecycle.startup()
            if scope["path"] in self.mcp_paths:
                await self.mcp(scope, receive, send)
            else:
                await self.django(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        else:
            raise ValueError(f"unsupported ASGI scope type {kind!r}")

    async def lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await lifecycle.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await lifecycle.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


# Every HTTP exchange gets an access log line, statistics and (MCP) its traffic record.
application = Observer(Application())
