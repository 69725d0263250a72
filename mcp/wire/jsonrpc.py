"""JSON-RPC 2.0 as MCP uses it: wire constants, parsing, classification, builders.

Pure Python (no Django). ``parse`` turns a request body into messages or raises a
``JsonRpcError`` that already carries the right code; builders return plain dicts ready for
``encode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Not in the spec but what the TypeScript SDK sends, and what clients recognise.
SESSION_NOT_FOUND = -32001
RESOURCE_NOT_FOUND = -32002

RequestId = str | int


class JsonRpcError(Exception):
    """A protocol error with its JSON-RPC code; ``id`` is the request's, when it was readable."""

    def __init__(self, code: int, message: str, *, id: RequestId | None = None, data: Any = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.id = id
        self.data = data


@dataclass(frozen=True, slots=True)
class Request:
    id: RequestId
    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notification:
    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Response:
    """A client's answer to a request the server sent (sampling, elicitation, roots, ping)."""

    id: RequestId
    result: dict[str, Any] | None
    error: dict[str, Any] | None


Message = Request | Notification | Response


class TooLarge(Exception):
    """A JSON string is longer than the configured limit."""


def decode(body: bytes, *, max_depth: int, max_string: int | None = None) -> Any:
    """Parse a JSON document; any failure (syntax, UTF-8, NaN, depth) is a parse error.

    A string longer than ``max_string`` characters raises ``TooLarge``.
    """
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise JsonRpcError(PARSE_ERROR, f"Parse error: {_reason(exc)}") from None
    # The walk is only needed when the raw bytes could hold a deep or long value.
    deep = body.count(b"[") + body.count(b"{") > max_depth
    long = max_string is not None and len(body) > max_string
    problem = _check_shape(value, max_depth, max_string) if deep or long else None
    if problem == "depth":
        raise JsonRpcError(PARSE_ERROR, f"Parse error: JSON nested deeper than {max_depth} levels")
    if problem == "string":
        raise TooLarge(f"a JSON string is longer than {max_string} characters")
    return value


def _reason(exc: orjson.JSONDecodeError) -> str:
    text = str(exc)
    if not text:
        return "invalid JSON"
    return text[:120]


def _check_shape(value: Any, depth_limit: int, string_limit: int | None) -> str | None:
    # Iterative walk: the check itself must not recurse on hostile input.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if string_limit is not None and len(item) > string_limit:
                return "string"
            continue
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > depth_limit:
            return "depth"
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | str))
    return None


def facts(message: Any) -> tuple[str | None, Any, str | None]:
    """(method, id, tool name) of a parsed message, for statistics and the traffic record:
    ``("batch", None, None)`` for a batch, Nones for what is not a JSON-RPC object; method and
    tool cut to 100 characters."""
    if isinstance(message, list):
        return "batch", None, None
    if not isinstance(message, dict):
        return None, None, None
    method = message.get("method")
    method = method[:100] if isinstance(method, str) else None
    tool = None
    if method == "tools/call":
        params = message.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        tool = name[:100] if isinstance(name, str) else None
    return method, message.get("id"), tool


def valid_id(value: Any) -> bool:
    """MCP ids are strings or integers; never null, booleans or floats."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def classify(obj: Any) -> Message:
    """Turn one decoded JSON value into a Request, Notification or Response."""
    if not isinstance(obj, dict):
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: a JSON-RPC message must be an object")
    raw_id = obj.get("id")
    readable_id = raw_id if valid_id(raw_id) else None
    if obj.get("jsonrpc") != "2.0":
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"', id=readable_id)
    if "id" in obj and readable_id is None:
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: id must be a string or an integer")
    if "method" in obj:
        method = obj["method"]
        if not isinstance(method, str) or not method:
            raise JsonRpcError(
                INVALID_REQUEST, "Invalid Request: method must be a non-empty string", id=readable_id
            )
        params = obj.get("params")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            raise JsonRpcError(INVALID_PARAMS, "Invalid params: params must be an object", id=readable_id)
        if readable_id is None:
            return Notification(method, params)
        return Request(readable_id, method, params)
    if readable_id is not None and ("result" in obj) != ("error" in obj):
        result, error = obj.get("result"), obj.get("error")
        if "result" in obj and not isinstance(result, dict):
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: result must be an object", id=readable_id)
        if "error" in obj and not isinstance(error, dict):
            raise JsonRpcError(INVALID_REQUEST, "Invalid Request: error must be an object", id=readable_id)
        return Response(readable_id, result, error)
    raise JsonRpcError(
        INVALID_REQUEST, "Invalid Request: not a request, notification or response", id=readable_id
    )


def result(id: RequestId, value: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id, "result": value}


def error(id: RequestId | None, code: int, message: str, data: Any = None) -> dict[str, Any]:
    """An error response; the id is left out when it could not be read (the schema has no null id)."""
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    response: dict[str, Any] = {"jsonrpc": "2.0"}
    if id is not None:
        response["id"] = id
    response["error"] = body
    return response


def notification(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def request(id: RequestId, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def encode(message: Any) -> bytes:
    """Serialise for the wire: compact UTF-8; anything unencodable becomes its ``str``."""
    return orjson.dumps(message, default=str, option=orjson.OPT_NON_STR_KEYS)


def is_response(message: dict[str, Any]) -> bool:
    return "method" not in message and ("result" in message or "error" in message)
