"""A response's head and its first body part in one socket write.

uvicorn's httptools protocol writes the status line and headers when the application sends
``http.response.start`` and the body when it sends ``http.response.body``: two system calls
(and, with TCP_NODELAY, two segments the client reads apart) for every JSON answer. On
loopback a write costs about as much CPU as the whole MCP dispatch of an echo call, so the
second one is worth saving. ``HeadHeld`` wraps the transport of one request/response cycle.

Guarantees:

- The bytes reach the socket in the order they were written; nothing is dropped or added.
- The head waits at most until the end of the event-loop turn in which it was written: a
  streamed answer (SSE) whose first event comes later still has its head sent at once.
- Closing through the wrapper sends what it holds first.
- Only the first two writes of a cycle are joined; every later one goes straight through.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HeadHeld:
    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.held: bytes | None = None
        self.joined = False

    def write(self, data: bytes) -> None:
        if self.joined:
            self.transport.write(data)
        elif self.held is None:
            self.held = data
            asyncio.get_running_loop().call_soon(self.flush)
        else:
            self.joined = True
            held, self.held = self.held, None
            self.transport.write(held + data)

    def flush(self) -> None:
        """Send the held head on its own (its body did not follow within the turn)."""
        held, self.held = self.held, None
        self.joined = True
        if held is not None and not self.transport.is_closing():
            self.transport.write(held)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)
