"""Validate JSON-RPC messages against the official MCP schemas (2025-11-25 and 2026-07-28).

``tests/schema/schema-<version>.json`` are copies of the published schemas
(modelcontextprotocol/specification, ``schema/<version>/schema.json``). Every message is
checked against ``JSONRPCMessage``; requests and notifications with a known method also
against their own definition, and results against the result type the test names. Session-era
messages use 2025-11-25 (the default); the stateless era's use 2026-07-28 (``MODERN``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_DIR = Path(__file__).parent.parent / "schema"
SESSIONS = "2025-11-25"
MODERN = "2026-07-28"

# Definitions of the messages a server sends, by method (2025-11-25; 2026-07-28's are read
# from its schema, where each request and notification names its method as a const).
METHOD_DEFINITIONS = {
    "sampling/createMessage": "CreateMessageRequest",
    "elicitation/create": "ElicitRequest",
    "roots/list": "ListRootsRequest",
    "ping": "PingRequest",
    "notifications/message": "LoggingMessageNotification",
    "notifications/progress": "ProgressNotification",
    "notifications/cancelled": "CancelledNotification",
    "notifications/resources/updated": "ResourceUpdatedNotification",
    "notifications/resources/list_changed": "ResourceListChangedNotification",
    "notifications/tools/list_changed": "ToolListChangedNotification",
    "notifications/prompts/list_changed": "PromptListChangedNotification",
    "notifications/tasks/status": "TaskStatusNotification",
}


def _uri(version: str) -> str:
    return f"urn:mcp:schema:{version}"


@cache
def _registry(version: str) -> Registry:
    contents = json.loads((SCHEMA_DIR / f"schema-{version}.json").read_text())
    resource = Resource.from_contents(contents, default_specification=DRAFT202012)
    return Registry().with_resource(_uri(version), resource)


@cache
def method_definitions(version: str) -> dict[str, str]:
    if version == SESSIONS:
        return METHOD_DEFINITIONS
    found: dict[str, str] = {}
    for name, definition in _registry(version).contents(_uri(version))["$defs"].items():
        method = (definition.get("properties") or {}).get("method", {}).get("const")
        if (
            method
            and name.endswith(("Request", "Notification"))
            and not name.startswith(("Client", "Server"))
        ):
            found.setdefault(method, name)
    return found


@cache
def validator(definition: str, version: str = SESSIONS) -> Draft202012Validator:
    """A validator for one ``#/$defs/<definition>`` of the schema of ``version``."""
    if definition not in _registry(version).contents(_uri(version))["$defs"]:
        raise KeyError(f"the MCP {version} schema has no definition {definition!r}")
    return Draft202012Validator({"$ref": f"{_uri(version)}#/$defs/{definition}"}, registry=_registry(version))


def check(instance: Any, definition: str, version: str = SESSIONS) -> None:
    error = best_match(validator(definition, version).iter_errors(instance))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise AssertionError(f"not a valid {version} {definition} at {where}: {error.message}\n{instance!r}")


def assert_valid(
    message: dict[str, Any], result_type: str | None = None, *, version: str = SESSIONS
) -> dict[str, Any]:
    """Check one JSON-RPC message; ``result_type`` names the definition its result must fit."""
    check(message, "JSONRPCMessage", version)
    method = message.get("method")
    definitions = method_definitions(version)
    if isinstance(method, str) and method in definitions:
        check(message, definitions[method], version)
    if result_type is not None:
        assert "result" in message, f"expected a {result_type}, got {message!r}"
        check(message["result"], result_type, version)
    return message


def assert_all_valid(
    messages: list[dict[str, Any]], result_type: str | None = None, *, version: str = SESSIONS
) -> list[dict[str, Any]]:
    """Check every message; the result type applies to the response(s) among them."""
    for message in messages:
        assert_valid(message, result_type if "result" in message else None, version=version)
    return messages


def assert_modern_valid(message: dict[str, Any], result_type: str | None = None) -> dict[str, Any]:
    """``assert_valid`` against the 2026-07-28 schema (the stateless era)."""
    return assert_valid(message, result_type, version=MODERN)
