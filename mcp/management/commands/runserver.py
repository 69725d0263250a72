"""``manage.py runserver``: the same ASGI application under uvicorn, with autoreload.

Django's own runserver is WSGI, which buffers a streaming response until it ends: SSE would
never arrive. This keeps the familiar command and arguments (``[addr:]port``, ``--noreload``).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ADDRPORT = re.compile(r"^(?:(?P<addr>\[[0-9a-fA-F:.]+\]|[^:]+):)?(?P<port>\d+)$")


class Command(BaseCommand):
    help = "Run the ASGI application under uvicorn with autoreload (SSE streams work)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", help="[address:]port, default 127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_false", dest="use_reloader")

    def handle(self, *args, **options):
        host, port = "127.0.0.1", 8000
        if options["addrport"]:
            match = ADDRPORT.match(options["addrport"])
            if match is None:
                raise CommandError(f"{options['addrport']!r} is not a port or address:port")
            host = (match["addr"] or host).strip("[]")
            port = int(match["port"])

        import uvicorn

        from mcp.ops.logs import uvicorn_log_config

        self.stdout.write(f"Serving echoserver.asgi:application on http://{host}:{port}/ (uvicorn)")
        uvicorn.run(
            "echoserver.asgi:application",
            host=host,
            port=port,
            reload=options["use_reloader"],
            reload_dirs=[str(settings.BASE_DIR / "echoserver"), str(settings.BASE_DIR / "mcp")],
            lifespan="on",
            log_config=uvicorn_log_config(),
            timeout_graceful_shutdown=2,
        )
