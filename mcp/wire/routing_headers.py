"""The 2026-07-28 routing headers, checked against the body (SEP-2243): pure functions.

Every stateless POST names its method in ``Mcp-Method``; ``tools/call`` and ``prompts/get``
name their target in ``Mcp-Name`` (``resources/read`` its URI, the tasks methods their task
id); a tool parameter whose schema says ``"x-mcp-header": "Region"`` travels in
``Mcp-Param-Region`` as well. Header names are case-insensitive, values are compared exactly
after trimming optional whitespace, and a value of the form ``=?base64?<data>?=`` is the
Base64 encoding of the real value (for values HTTP cannot carry). A missing, malformed or
disagreeing header raises ``HeaderMismatch`` (HTTP 400, -32020).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from mcp.errors import HeaderMismatch

# Which params field Mcp-Name must repeat, per method.
NAME_SOURCE = {
    "tools/call": "name",
    "prompts/get": "name",
    "resources/read": "uri",
    "tasks/get": "taskId",
    "tasks/update": "taskId",
    "tasks/cancel": "taskId",
}
SENTINEL = re.compile(r"^=\?base64\?(?P<data>.*)\?=$", re.DOTALL)
X_MCP_HEADER = "x-mcp-header"

Headers = Callable[[str], str | None]


def decode_value(raw: str, header: str) -> str:
    """The header's value: trimmed, and Base64-decoded when wrapped in the sentinel."""
    value = raw.strip(" \t")
    match = SENTINEL.match(value)
    if match is None:
        return value
    try:
        return base64.b64decode(match["data"], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise HeaderMismatch(f"Header mismatch: {header} is not valid Base64 inside =?base64?...?=") from None


def wire_string(value: Any) -> str | None:
    """How a parameter value appears in a header; None for values headers do not carry."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None


def check_method(headers: Headers, method: str) -> None:
    raw = headers("Mcp-Method")
    if raw is None:
        raise HeaderMismatch("Header mismatch: the Mcp-Method header is required")
    if decode_value(raw, "Mcp-Method") != method:
        raise HeaderMismatch(f"Header mismatch: Mcp-Method does not match the body's method {method[:100]!r}")


def check_name(headers: Headers, method: str, params: dict[str, Any]) -> None:
    source = NAME_SOURCE.get(method)
    if source is None:
        return
    expected = params.get(source)
    raw = headers("Mcp-Name")
    if not isinstance(expected, str):
        return  # the handler reports the missing or mistyped param itself (-32602)
    if raw is None:
        raise HeaderMismatch(f"Header mismatch: {method} needs the Mcp-Name header (params.{source})")
    if decode_value(raw, "Mcp-Name") != expected:
        raise HeaderMismatch(f"Header mismatch: Mcp-Name does not match params.{source}")


def header_params(input_schema: dict[str, Any]) -> dict[str, str]:
    """``{argument name: header suffix}`` for a tool's ``x-mcp-header`` parameters."""
    properties = input_schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {
        name: spec[X_MCP_HEADER]
        for name, spec in properties.items()
        if isinstance(spec, dict) and isinstance(spec.get(X_MCP_HEADER), str)
    }


def check_params(headers: Headers, input_schema: dict[str, Any], arguments: Any) -> None:
    """Each ``Mcp-Param-*`` header of the tool agrees with its argument (both present or absent)."""
    arguments = arguments if isinstance(arguments, dict) else {}
    for name, suffix in header_params(input_schema).items():
        header = f"Mcp-Param-{suffix}"
        raw = headers(header)
        present = name in arguments and arguments[name] is not None
        if raw is None:
            if present and wire_string(arguments[name]) is not None:
                raise HeaderMismatch(f"Header mismatch: argument {name!r} must also be sent in {header}")
            continue
        value = decode_value(raw, header)
        if not present or wire_string(arguments[name]) != value:
            raise HeaderMismatch(f"Header mismatch: {header} does not match argument {name!r}")
