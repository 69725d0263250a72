"""A fault profile: which failures to inject into a session's exchanges, and its seed (pure).

The profile is a JSON object, validated by one JSON Schema (``SCHEMA``) wherever it comes
from: the ``setFaults`` tool's arguments, the ``MCP-Faults`` header on initialize, or the
MCP_FAULTS setting. Every field is optional; an absent field injects nothing. ``normalize``
returns the profile with defaults filled in, which is what is stored and reported.

Rates are probabilities per exchange (0..1); ``after`` counts exchanges after the profile was
set (0: the very next one).
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

# Fault kinds, as marked in the traffic record and counted in mcp_faults_injected_total{kind}.
KINDS = (
    "latency",
    "tool_error",
    "rpc_error",
    "http_500",
    "http_503",
    "unauthorized",
    "expire",
    "drop_stream",
    "duplicate_event",
    "keepalive",
    "list_changed_burst",
    "oversized",
    "ignore_log_level",
)

MAX_LATENCY_MS = 60_000
MAX_BURST = 1000
MAX_PROFILE_BYTES = 4096

_RATE = {"type": "number", "minimum": 0, "maximum": 1}
_AFTER = {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}


def _fault(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


# The one schema of a profile (also setFaults' arguments, with "clear" added there).
PROPERTIES: dict[str, Any] = {
    "seed": {
        "type": "integer",
        "minimum": 0,
        "maximum": 2**53 - 1,
        "description": "Same seed, same faults in the same order (a random one is chosen and reported "
        "when absent)",
    },
    "latency": _fault(
        {
            "ms": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
            "minMs": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
            "maxMs": {"type": "integer", "minimum": 0, "maximum": MAX_LATENCY_MS},
            "rate": {**_RATE, "default": 1},
        }
    ),
    "toolError": _fault(
        {
            "rate": _RATE,
            "as": {"type": "string", "enum": ["isError", "jsonrpc"], "default": "isError"},
        },
        ("rate",),
    ),
    "httpError": _fault(
        {
            "rate": _RATE,
            "status": {"type": "integer", "enum": [500, 503], "default": 503},
            "retryAfter": {"type": "integer", "minimum": 0, "maximum": 3600, "default": 1},
        },
        ("rate",),
    ),
    "unauthorized": _fault({"after": _AFTER}),
    "expire": _fault({"after": _AFTER}),
    "dropStream": _fault(
        {
            "afterEvents": {"type": "integer", "minimum": 0, "maximum": 10_000, "default": 1},
            "resumable": {"type": "boolean", "default": True},
            "streams": {"type": "string", "enum": ["post", "get", "any"], "default": "any"},
            "rate": {**_RATE, "default": 1},
        }
    ),
    "duplicateEvent": _fault(
        {
            "event": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1},
            "rate": {**_RATE, "default": 1},
        }
    ),
    "keepAlive": _fault(
        {
            "mode": {"type": "string", "enum": ["none", "slow"]},
            "intervalSeconds": {"type": "number", "minimum": 1, "maximum": 3600, "default": 120},
        },
        ("mode",),
    ),
    "listChangedBurst": _fault(
        {
            "count": {"type": "integer", "minimum": 1, "maximum": MAX_BURST, "default": 50},
            "kind": {"type": "string", "enum": ["tools", "resources", "prompts"], "default": "tools"},
            "after": _AFTER,
        }
    ),
    "oversized": _fault(
        {
            "bytes": {"type": "integer", "minimum": 1},
            "rate": {**_RATE, "default": 1},
        },
        ("bytes",),
    ),
    "ignoreLogLevel": _fault({"rate": {**_RATE, "default": 1}}),
}
SCHEMA: dict[str, Any] = {"type": "object", "properties": PROPERTIES, "additionalProperties": False}


class ProfileError(ValueError):
    """A profile that does not fit the schema; the message says where and why."""


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(SCHEMA)


def normalize(raw: Any, *, max_bytes: int) -> dict[str, Any]:
    """The validated profile with defaults filled in (and a seed); ProfileError if invalid.

    ``max_bytes`` caps ``oversized.bytes`` (the server's own limits).
    """
    error = best_match(_validator().iter_errors(raw))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        raise ProfileError(f"{where}: {error.message}" if where else error.message)
    profile: dict[str, Any] = {"seed": raw.get("seed", secrets.randbelow(2**31))}
    for name, schema in PROPERTIES.items():
        if name == "seed" or name not in raw:
            continue
        value = dict(raw[name])
        for field, spec in schema["properties"].items():
            if field not in value and "default" in spec:
                value[field] = spec["default"]
        profile[name] = value
    latency = profile.get("latency")
    if latency is not None:
        if "ms" in latency and ("minMs" in latency or "maxMs" in latency):
            raise ProfileError("latency: give either ms, or minMs and maxMs")
        if "ms" not in latency:
            if "minMs" not in latency or "maxMs" not in latency:
                raise ProfileError("latency: give ms, or both minMs and maxMs")
            if latency["minMs"] > latency["maxMs"]:
                raise ProfileError("latency: minMs is above maxMs")
    oversized = profile.get("oversized")
    if oversized is not None and oversized["bytes"] > max_bytes:
        raise ProfileError(f"oversized/bytes: at most {max_bytes} (the server's own limits)")
    return profile


def parse(text: str, *, max_bytes: int) -> dict[str, Any]:
    """A profile from JSON text (the MCP-Faults header, MCP_FAULTS); ProfileError if invalid."""
    if len(text) > MAX_PROFILE_BYTES:
        raise ProfileError(f"a fault profile is at most {MAX_PROFILE_BYTES} bytes of JSON")
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProfileError("a fault profile must be a JSON object") from None
    return normalize(raw, max_bytes=max_bytes)


def is_empty(profile: dict[str, Any] | None) -> bool:
    """True when the profile injects nothing (no fault field besides the seed)."""
    return not profile or set(profile) <= {"seed"}
