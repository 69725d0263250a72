"""A small MCP client on the standard library, for the bench's setup steps and probes.

Not the load generator (that is wrk): it opens sessions, checks answers, and holds GET
streams for the latency probe. Works against every peer: JSON or SSE answers, session id in
the ``Mcp-Session-Id`` header.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any

PATH = "/mcp"
VERSION = "2025-11-25"
MODERN = "2026-07-28"
ACCEPT = "application/json, text/event-stream"
INIT_PARAMS = {
    "protocolVersion": VERSION,
    "capabilities": {},
    "clientInfo": {"name": "mcp-echo-bench", "version": "1.0"},
}


class ClientError(RuntimeError):
    """The server answered something the bench cannot work with."""


def messages(content_type: str, body: bytes) -> list[dict[str, Any]]:
    """The JSON-RPC messages of an answer, JSON or SSE (``data:`` lines)."""
    if not body:
        return []
    if content_type.startswith("text/event-stream"):
        found = []
        for line in body.decode().splitlines():
            if line.startswith("data:") and line[5:].strip():
                found.append(json.loads(line[5:]))
        return found
    payload = json.loads(body)
    return payload if isinstance(payload, list) else [payload]


class Client:
    """One keep-alive connection to ``127.0.0.1:port``."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.next_id = 0

    def close(self) -> None:
        self.conn.close()

    def request(
        self, method: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], list[dict[str, Any]]]:
        sent = {"Accept": ACCEPT, "Content-Type": "application/json", **(headers or {})}
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, PATH, body=data, headers=sent)
                answer = self.conn.getresponse()
                raw = answer.read()
                break
            except (http.client.HTTPException, ConnectionError):
                # A server may close an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        found = {name.lower(): value for name, value in answer.getheaders()}
        return answer.status, found, messages(found.get("content-type", ""), raw)

    def rpc(self, method: str, params: dict[str, Any], session: str | None = None, **headers: str) -> dict:
        self.next_id += 1
        sent = dict(headers)
        if session:
            sent.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION})
        status, _, found = self.request("POST", jsonrpc(self.next_id, method, params), sent)
        answers = [m for m in found if m.get("id") == self.next_id]
        if status != 200 or not answers:
            raise ClientError(f"{method}: HTTP {status}, {found[-1:] if found else 'no message'}")
        return answers[0]

    def open_session(self) -> str:
        """initialize + notifications/initialized; the session id."""
        self.next_id += 1
        status, headers, _ = self.request("POST", jsonrpc(self.next_id, "initialize", INIT_PARAMS))
        session = headers.get("mcp-session-id")
        if status != 200 or not session:
            raise ClientError(f"initialize: HTTP {status}, session header {session!r}")
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        status, _, _ = self.request(
            "POST", note, {"Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION}
        )
        if status not in (200, 202, 204):
            raise ClientError(f"notifications/initialized: HTTP {status}")
        return session

    def delete(self, session: str) -> int:
        status, _, _ = self.request(
            "DELETE", None, {"Mcp-Session-Id": session, "MCP-Protocol-Version": VERSION}
        )
        return status

    def answers_modern(self) -> bool:
        """Whether the server answers the 2026-07-28 era's ``server/discover``."""
        try:
            status, _, found = self.request(
                "POST", jsonrpc(1, "server/discover", modern_params({})), modern_headers("server/discover")
            )
        except (OSError, http.client.HTTPException, ValueError):
            return False
        return status == 200 and any("result" in m for m in found)


def jsonrpc(request_id: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def modern_params(params: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": INIT_PARAMS["clientInfo"],
    }
    return {**params, "_meta": meta}


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if name:
        headers["Mcp-Name"] = name
    return headers


class EventStream:
    """A session's GET stream on a raw socket, read line by line (no buffering client)."""

    def __init__(self, port: int, session: str, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        request = (
            f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
            f"Mcp-Session-Id: {session}\r\nMCP-Protocol-Version: {VERSION}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n", time.monotonic() + timeout)
        status = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"?"
        if status != b"200":
            raise ClientError(f"GET stream: HTTP {status.decode(errors='replace')}")

    def _until(self, marker: bytes, deadline: float) -> bytes:
        while marker not in self.buffer:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ClientError("GET stream closed")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def wait_for(self, needle: bytes, timeout: float) -> float:
        """Block until a data line containing ``needle`` arrives; its arrival time (perf_counter)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._until(b"\n", deadline)
            if line.startswith(b"data:") and needle in line:
                return time.perf_counter()

    def close(self) -> None:
        self.sock.close()
