"""The response budget of one HTTP request: what its answers may weigh in all.

MCP_MAX_RESPONSE_BYTES (default: MCP_MAX_BODY_BYTES) bounds a single answer and a batch's
whole array. Guarantees of ``Budget.fit``:

- An answer that fits is returned as encoded (encoded once: the caller sends these bytes).
- One that does not is replaced by a JSON-RPC error with its id (-32603, saying how large it
  was and the limit), so a batch's element past the budget costs about 150 bytes instead.
- ``reserve`` keeps room for the error answers of elements still to come, so a batch's body
  stays within the limit unless its error answers alone exceed it (100 elements: ~15 KB).
- ``encode_answer`` applies the same limit to an answer carried on an SSE stream (a POST's
  SSE answer, a GET or legacy stream, a stateless stream, a one-shot SSE batch answer).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from mcp.errors import InternalError, message_for
from mcp.wire import jsonrpc

ERROR_ROOM = 160


def response_limit() -> int:
    return settings.MCP_MAX_RESPONSE_BYTES


class Budget:
    def __init__(self, limit: int | None = None) -> None:
        self.limit = response_limit() if limit is None else limit
        self.left = self.limit

    def fit(self, message: dict[str, Any], *, reserve: int = 0) -> bytes:
        """``message`` encoded, or its error answer when it does not fit; ``reserve`` answers
        still to come keep ERROR_ROOM bytes each."""
        body = jsonrpc.encode(message)
        room = self.left - reserve * ERROR_ROOM
        if len(body) > room and "id" in message:
            body = jsonrpc.encode(too_large(message.get("id"), len(body), self.limit))
        self.left -= len(body)
        return body


def encode_answer(message: dict[str, Any]) -> bytes:
    """A message for a stream, encoded: an answer (a response with an id) over the limit is
    replaced by its error; notifications and requests pass as they are."""
    body = jsonrpc.encode(message)
    if len(body) > settings.MCP_MAX_RESPONSE_BYTES and "id" in message and "method" not in message:
        return jsonrpc.encode(too_large(message["id"], len(body), settings.MCP_MAX_RESPONSE_BYTES))
    return body


def too_large(request_id: jsonrpc.RequestId | None, size: int, limit: int) -> dict[str, Any]:
    return message_for(
        request_id,
        InternalError(
            f"Response too large: {size} bytes, over this request's response budget of {limit} "
            "bytes (MCP_MAX_RESPONSE_BYTES)"
        ),
    )
