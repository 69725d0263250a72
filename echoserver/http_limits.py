"""uvicorn's httptools protocol with limits on the request head, which uvicorn does not have.

llhttp (under httptools) accepts any number of header lines of any size, and uvicorn keeps
them all; h11's only bound (``h11_max_incomplete_event_size``) exists on the slower h11
protocol. Guarantees of ``HeaderLimitedHttpTools`` (the console script's ``http``):

- A request head with more than MCP_MAX_HEADERS header lines, or more than
  MCP_MAX_HEADER_BYTES bytes of target and header names and values together, is refused
  with ``431 Request Header Fields Too Large`` and the connection is closed, while it is
  being parsed: nothing past the limit is kept, and the application never sees the request.
- Counted per request (keep-alive connections start again at zero); cost: two additions and
  two comparisons per header line.

It also sends each response's head and first body part in one write (``echoserver.http_writes``).
"""

from __future__ import annotations

import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from echoserver.http_writes import HeadHeld

logger = logging.getLogger("mcp.transport")


class HeadTooLarge(Exception):
    """Raised inside the parser's callback to stop parsing the refused request."""


class HeaderLimitedHttpTools(HttpToolsProtocol):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        from django.conf import settings

        self.max_headers: int = settings.MCP_MAX_HEADERS
        self.max_head_bytes: int = settings.MCP_MAX_HEADER_BYTES
        self.head_count = 0
        self.head_bytes = 0
        self.head_refused = False

    def on_message_begin(self) -> None:
        self.head_count = 0
        self.head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self.head_bytes += len(url)
        if self.head_bytes > self.max_head_bytes:
            self.refuse_head()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_count += 1
        self.head_bytes += len(name) + len(value)
        if self.head_count > self.max_headers or self.head_bytes > self.max_head_bytes:
            self.refuse_head()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.cycle.transport = HeadHeld(self.transport)

    def refuse_head(self) -> None:
        self.head_refused = True
        self.headers = []
        raise HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        """uvicorn answers any parser error with 400; a head refused here gets 431."""
        if not self.head_refused:
            super().send_400_response(msg)
            return
        logger.info(
            "request head refused: over %d header lines or %d bytes (MCP_MAX_HEADERS, MCP_MAX_HEADER_BYTES)",
            self.max_headers,
            self.max_head_bytes,
        )
        text = (
            f"Request Header Fields Too Large: at most {self.max_headers} header lines and "
            f"{self.max_head_bytes} bytes (MCP_MAX_HEADERS, MCP_MAX_HEADER_BYTES)"
        ).encode()
        head = [b"HTTP/1.1 431 Request Header Fields Too Large\r\n"]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.append(
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % len(text)
        )
        self.transport.write(b"".join(head) + text)
        self.transport.close()
