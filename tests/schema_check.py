"""Validate JSON-RPC messages against the official MCP schema (2025-11-25).

``tests/schema/schema-2025-11-25.json`` is a copy of the published schema
(modelcontextprotocol/specification, ``schema/2025-11-25/schema.json``). Every message is
checked against ``JSONRPCMessage``; requests and notifications with a known method also
against their own definition, and results against the result type the test names.
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

SCHEMA_PATH = Path(__file__).parent / "schema" / "schema-2025-11-25.json"
SCHEMA_URI = "urn:mcp:schema:2025-11-25"

# Definitions of the messages a server sends, by method.
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


@cache
def _registry() -> Registry:
    contents = json.loads(SCHEMA_PATH.read_text())
    resource = Resource.from_contents(contents, default_specification=DRAFT202012)
    return Registry().with_resource(SCHEMA_URI, resource)


@cache
def validator(definition: str) -> Draft202012Validator:
    """A validator for one ``#/$defs/<definition>`` of the schema."""
    if definition not in _registry().contents(SCHEMA_URI)["$defs"]:
        raise KeyError(f"the MCP schema has no definition {definition!r}")
    return Draft202012Validator({"$ref": f"{SCHEMA_URI}#/$defs/{definition}"}, registry=_registry())


def check(instance: Any, definition: str) -> None:
    error = best_match(validator(definition).iter_errors(instance))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        raise AssertionError(f"not a valid {definition} at {where}: {error.message}\n{instance!r}")


def assert_valid(message: dict[str, Any], result_type: str | None = None) -> dict[str, Any]:
    """Check one JSON-RPC message; ``result_type`` names the definition its result must fit."""
    check(message, "JSONRPCMessage")
    method = message.get("method")
    if isinstance(method, str) and method in METHOD_DEFINITIONS:
        check(message, METHOD_DEFINITIONS[method])
    if result_type is not None:
        assert "result" in message, f"expected a {result_type}, got {message!r}"
        check(message["result"], result_type)
    return message


def assert_all_valid(messages: list[dict[str, Any]], result_type: str | None = None) -> list[dict[str, Any]]:
    """Check every message; the result type applies to the response(s) among them."""
    for message in messages:
        assert_valid(message, result_type if "result" in message else None)
    return messages
