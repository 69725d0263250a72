"""``manage.py sweep_sessions``: remove sessions idle past MCP_SESSION_TIMEOUT.

One pass by default; ``--loop`` keeps sweeping every ``--interval`` seconds until SIGTERM or
SIGINT. Useful with the Redis store (one sweeper for all nodes); with the local-memory
store it can only see its own process, so the server's in-process sweeper does the work.
"""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mcp.redact import describe_exception
from mcp.sessions.sweeper import sweep_once


class Command(BaseCommand):
    help = "Remove MCP sessions idle for longer than MCP_SESSION_TIMEOUT."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep sweeping until stopped")
        parser.add_argument("--interval", type=float, default=None, help="seconds between passes")

    def handle(self, *args, **options):
        interval = options["interval"] or settings.MCP_SWEEP_INTERVAL
        try:
            total = asyncio.run(self.run(options["loop"], interval))
        except Exception as exc:
            raise CommandError(f"sweep failed: {describe_exception(exc)}") from None
        return f"Done! Removed {total} expired session(s)."

    async def run(self, loop: bool, interval: float) -> int:
        total = len(await sweep_once())
        if not loop:
            return total
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                total += len(await sweep_once())
        return total
