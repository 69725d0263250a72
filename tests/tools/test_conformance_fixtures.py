"""The fixtures of the official MCP conformance suite, as the suite's scenarios check them.

Every message the server sends here is validated against the official 2025-11-25 schema.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import orjson
import pytest

from mcp.bus import OUTBOX, get_bus
from mcp.tools.conformance.base import PNG_BASE64, WAV_BASE64
from tests.support.client import McpClient, messages_of, parse_sse
from tests.support.schema_check import assert_all_valid, assert_valid

CONFORMANCE_TOOLS = {
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_tool_with_logging",
    "test_error_handling",
    "test_tool_with_progress",
    "test_sampling",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "test_reconnection",
    "json_schema_2020_12_tool",
}
CLIENT_CAPABILITIES = {"sampling": {}, "elicitation": {}}


# --- Helpers ----------------------------------------------------------------------------------


async def exchange(
    client: McpClient, method: str, params: dict[str, Any] | None, result_type: str | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Send one request; every message of the answer is schema-checked. Returns (all, final)."""
    response = await client.request(method, params)
    assert response.status_code == 200, response.text
    messages = assert_all_valid(messages_of(response), result_type)
    finals = [m for m in messages if "result" in m or "error" in m]
    assert len(finals) == 1, messages
    return messages, finals[0]


async def result_of(
    client: McpClient, method: str, params: dict[str, Any] | None, result_type: str
) -> dict[str, Any]:
    _, final = await exchange(client, method, params, result_type)
    assert "result" in final, final
    return final["result"]


async def call(client: McpClient, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return await result_of(client, "tools/call", params, "CallToolResult")


async def error_of(client: McpClient, method: str, params: dict[str, Any]) -> dict[str, Any]:
    _, final = await exchange(client, method, params)
    assert "error" in final, final
    return final["error"]


def only_text(result: dict[str, Any]) -> str:
    assert [block["type"] for block in result["content"]] == ["text"], result
    return result["content"][0]["text"]


async def all_pages(client: McpClient, method: str, key: str, result_type: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        result = await result_of(client, method, params, result_type)
        items.extend(result[key])
        if not result.get("nextCursor"):
            return items
        params = {"cursor": result["nextCursor"]}


@pytest.fixture
async def capable(mcp_client) -> McpClient:
    """A session whose client declared sampling and elicitation, as the suite's client does."""
    await mcp_client.initialize(capabilities=CLIENT_CAPABILITIES)
    return mcp_client


async def server_request(client: McpClient, method: str, timeout: float = 5.0) -> dict[str, Any]:
    """The server-to-client request ``method`` once published on one of the session's streams.

    httpx.ASGITransport buffers an SSE body until it ends, so the request cannot be read from
    the live response: it is read from the bus, where every streamed message goes first.
    """
    bus = get_bus()
    assert client.session_id is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for stream in [OUTBOX, *(f"r{n}" for n in range(1, 32))]:
            if not await bus.exists(client.session_id, stream):
                continue
            for event in await bus.read(client.session_id, stream, 0, 0):
                message = event.message
                if message and message.get("method") == method and "id" in message:
                    return assert_valid(message)
        await asyncio.sleep(0.01)
    raise AssertionError(f"the server sent no {method} request within {timeout}s")


async def answer(client: McpClient, request_id: Any, result: dict[str, Any], result_type: str) -> None:
    message = {"jsonrpc": "2.0", "id": request_id, "result": result}
    assert_valid(message, result_type)
    response = await client.post(message)
    assert response.status_code == 202, response.text


async def round_trip(
    client: McpClient,
    tool: str,
    arguments: dict[str, Any],
    method: str,
    reply: dict[str, Any],
    reply_type: str,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Call a tool that asks the client something, answer it; (server request, messages, result)."""
    pending = asyncio.create_task(client.request("tools/call", {"name": tool, "arguments": arguments}))
    try:
        request = await server_request(client, method)
        await answer(client, request["id"], reply, reply_type)
        response = await asyncio.wait_for(pending, 5)
    finally:
        pending.cancel()
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = assert_all_valid(messages_of(response), "CallToolResult")
    assert messages[0] == request, "the server request travels on the tools/call stream first"
    assert "result" in messages[-1], messages
    return request, messages, messages[-1]["result"]


# --- Lifecycle and listing --------------------------------------------------------------------


async def test_initialize_declares_what_the_fixtures_need(mcp_client):
    response = await mcp_client.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": CLIENT_CAPABILITIES,
                "clientInfo": {"name": "conformance-like", "version": "1"},
            },
        }
    )
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert_valid(message, "InitializeResult")
    capabilities = message["result"]["capabilities"]
    assert {"tools", "resources", "prompts", "logging", "completions"} <= set(capabilities)
    assert capabilities["resources"]["subscribe"] is True


async def test_tools_list_has_every_fixture_with_description_and_object_schema(session):
    tools = {
        tool["name"]: tool for tool in await all_pages(session, "tools/list", "tools", "ListToolsResult")
    }
    assert set(tools) >= CONFORMANCE_TOOLS
    for name in CONFORMANCE_TOOLS:
        tool = tools[name]
        assert tool["description"], name
        assert tool["inputSchema"]["type"] == "object", name
    assert tools["test_sampling"]["inputSchema"]["properties"]["prompt"]["type"] == "string"
    assert tools["test_sampling"]["inputSchema"]["required"] == ["prompt"]
    assert tools["test_elicitation"]["inputSchema"]["properties"]["message"]["type"] == "string"
    assert tools["test_elicitation"]["inputSchema"]["required"] == ["message"]


async def test_json_schema_2020_12_tool_keeps_its_schema_verbatim(session):
    tools = {
        tool["name"]: tool for tool in await all_pages(session, "tools/list", "tools", "ListToolsResult")
    }
    schema = tools["json_schema_2020_12_tool"]["inputSchema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$defs"]["address"] == {
        "$anchor": "addressDef",
        "type": "object",
        "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
    }
    assert schema["properties"]["address"] == {"$ref": "#/$defs/address"}
    assert schema["allOf"] == [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}]
    assert schema["if"] == {
        "properties": {"contactMethod": {"const": "phone"}},
        "required": ["contactMethod"],
    }
    assert (schema["then"], schema["else"]) == ({"required": ["phone"]}, {"required": ["email"]})
    assert schema["additionalProperties"] is False


async def test_json_schema_2020_12_tool_validates_through_defs(session):
    arguments = {"name": "Ada", "address": {"street": "1 Main St", "city": "London"}, "email": "a@b.c"}
    text = only_text(await call(session, "json_schema_2020_12_tool", arguments))
    assert orjson.loads(text.partition(": ")[2]) == arguments
    wrong = await call(session, "json_schema_2020_12_tool", {"address": {"city": 7}, "email": "a@b.c"})
    assert wrong["isError"] is True
    extra = await call(session, "json_schema_2020_12_tool", {"nickname": "x", "email": "a@b.c"})
    assert extra["isError"] is True
    # if/then/else: contactMethod "phone" needs a phone; allOf/anyOf: a phone or an email at all.
    no_phone = await call(session, "json_schema_2020_12_tool", {"contactMethod": "phone", "email": "a@b.c"})
    assert no_phone["isError"] is True
    nothing = await call(session, "json_schema_2020_12_tool", {"name": "Ada"})
    assert nothing["isError"] is True


# --- Content types ----------------------------------------------------------------------------


async def test_simple_text_without_an_arguments_key(session):
    result = await call(session, "test_simple_text")
    assert result == {"content": [{"type": "text", "text": "This is a simple text response for testing."}]}


async def test_image_content(session):
    result = await call(session, "test_image_content", {})
    assert result["content"] == [{"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}]
    assert base64.b64decode(PNG_BASE64).startswith(b"\x89PNG\r\n\x1a\n")


async def test_audio_content(session):
    result = await call(session, "test_audio_content", {})
    assert result["content"] == [{"type": "audio", "data": WAV_BASE64, "mimeType": "audio/wav"}]
    wav = base64.b64decode(WAV_BASE64)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"


async def test_embedded_resource(session):
    result = await call(session, "test_embedded_resource", {})
    assert result["content"] == [
        {
            "type": "resource",
            "resource": {
                "uri": "test://embedded-resource",
                "mimeType": "text/plain",
                "text": "This is an embedded resource content.",
            },
        }
    ]


async def test_multiple_content_types(session):
    content = (await call(session, "test_multiple_content_types", {}))["content"]
    assert [block["type"] for block in content] == ["text", "image", "resource"]
    assert content[0]["text"] == "Multiple content types test:"
    assert content[1]["mimeType"] == "image/png" and content[1]["data"] == PNG_BASE64
    resource = content[2]["resource"]
    assert resource["uri"] == "test://mixed-content-resource"
    assert resource["mimeType"] == "application/json"
    assert orjson.loads(resource["text"]) == {"test": "data", "value": 123}


async def test_error_handling_is_an_error_result_not_a_jsonrpc_error(session):
    result = await call(session, "test_error_handling", {})
    assert result["isError"] is True
    assert only_text(result) == "This tool intentionally returns an error for testing"


# --- Notifications before the result ---------------------------------------------------------


async def test_logging_sends_three_messages_before_the_result(session):
    assert await result_of(session, "logging/setLevel", {"level": "debug"}, "EmptyResult") == {}
    started = time.perf_counter()
    response = await session.request("tools/call", {"name": "test_tool_with_logging", "arguments": {}})
    elapsed = time.perf_counter() - started
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = assert_all_valid(messages_of(response), "CallToolResult")
    assert [m.get("method") for m in messages] == ["notifications/message"] * 3 + [None]
    logs = [m["params"] for m in messages[:3]]
    assert [log["level"] for log in logs] == ["info"] * 3
    assert [log["data"] for log in logs] == [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]
    assert only_text(messages[-1]["result"])
    assert elapsed >= 0.09, "two pauses of about 50 ms between the messages"


async def test_logging_respects_the_session_level(session):
    await result_of(session, "logging/setLevel", {"level": "warning"}, "EmptyResult")
    messages, final = await exchange(
        session, "tools/call", {"name": "test_tool_with_logging", "arguments": {}}, "CallToolResult"
    )
    assert messages == [final]
    assert only_text(final["result"])


async def test_progress_sends_three_increasing_notifications_before_the_result(session):
    params = {"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "p1"}}
    response = await session.request("tools/call", params)
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = assert_all_valid(messages_of(response), "CallToolResult")
    assert [m.get("method") for m in messages] == ["notifications/progress"] * 3 + [None]
    progress = [m["params"] for m in messages[:3]]
    assert all(p["progressToken"] == "p1" and p["total"] == 100 for p in progress)
    values = [p["progress"] for p in progress]
    assert values == [0, 50, 100] and values == sorted(set(values))
    assert "result" in messages[-1] and "isError" not in messages[-1]["result"]


async def test_progress_token_may_be_an_integer(session):
    params = {"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": 7}}
    messages, _ = await exchange(session, "tools/call", params, "CallToolResult")
    assert [m["params"]["progressToken"] for m in messages if m.get("method")] == [7, 7, 7]


async def test_progress_without_a_token_sends_nothing_and_answers_in_json(session):
    response = await session.request("tools/call", {"name": "test_tool_with_progress", "arguments": {}})
    assert response.headers["content-type"] == "application/json"
    (message,) = assert_all_valid(messages_of(response), "CallToolResult")
    assert only_text(message["result"])


# --- Sampling ---------------------------------------------------------------------------------

SAMPLED = {
    "role": "assistant",
    "content": {"type": "text", "text": "This is a test response from the client"},
    "model": "test-model",
    "stopReason": "endTurn",
}


async def test_sampling_round_trip(capable):
    request, messages, result = await round_trip(
        capable,
        "test_sampling",
        {"prompt": "Test prompt for sampling"},
        "sampling/createMessage",
        SAMPLED,
        "CreateMessageResult",
    )
    assert request["params"] == {
        "messages": [{"role": "user", "content": {"type": "text", "text": "Test prompt for sampling"}}],
        "maxTokens": 100,
    }
    assert len(messages) == 2
    assert only_text(result) == "LLM response: This is a test response from the client"


async def test_sampling_accepts_a_list_of_content_blocks(capable):
    reply = {**SAMPLED, "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}
    _, _, result = await round_trip(
        capable, "test_sampling", {"prompt": "p"}, "sampling/createMessage", reply, "CreateMessageResult"
    )
    assert only_text(result) == "LLM response: one\ntwo"


async def test_sampling_needs_a_prompt(capable):
    result = await call(capable, "test_sampling", {})
    assert result["isError"] is True
    assert "prompt" in only_text(result)


async def test_sampling_without_the_capability_fails_fast(session):
    started = time.perf_counter()
    result = await call(session, "test_sampling", {"prompt": "hi"})
    assert time.perf_counter() - started < 1
    assert result["isError"] is True
    assert "sampling" in only_text(result)


async def test_sampling_error_from_the_client_is_an_error_result(capable):
    pending = asyncio.create_task(
        capable.request("tools/call", {"name": "test_sampling", "arguments": {"prompt": "p"}})
    )
    request = await server_request(capable, "sampling/createMessage")
    error = {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -1, "message": "User rejected"}}
    assert_valid(error)
    assert (await capable.post(error)).status_code == 202
    response = await asyncio.wait_for(pending, 5)
    messages = assert_all_valid(messages_of(response), "CallToolResult")
    result = messages[-1]["result"]
    assert result["isError"] is True
    assert "User rejected" in only_text(result)


async def test_sampling_timeout_cancels_the_request_and_fails(capable, settings):
    settings.MCP_CLIENT_REQUEST_TIMEOUT = 0.2
    response = await capable.request("tools/call", {"name": "test_sampling", "arguments": {"prompt": "p"}})
    messages = assert_all_valid(messages_of(response), "CallToolResult")
    assert [m.get("method") for m in messages] == ["sampling/createMessage", "notifications/cancelled", None]
    assert messages[1]["params"]["requestId"] == messages[0]["id"]
    assert messages[-1]["result"]["isError"] is True


# --- Elicitation ------------------------------------------------------------------------------

ACCEPTED = {"action": "accept", "content": {"username": "testuser", "email": "test@example.com"}}


async def test_elicitation_round_trip(capable):
    request, _, result = await round_trip(
        capable,
        "test_elicitation",
        {"message": "Please provide your information"},
        "elicitation/create",
        ACCEPTED,
        "ElicitResult",
    )
    params = request["params"]
    assert params["message"] == "Please provide your information"
    schema = params["requestedSchema"]
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"username", "email"}
    assert all(prop["type"] == "string" for prop in schema["properties"].values())
    assert set(schema["required"]) == {"username", "email"}
    text = only_text(result)
    prefix = "User response: action=accept, content="
    assert text.startswith(prefix)
    assert orjson.loads(text[len(prefix) :]) == ACCEPTED["content"]


async def test_elicitation_decline_has_empty_content(capable):
    _, _, result = await round_trip(
        capable,
        "test_elicitation",
        {"message": "m"},
        "elicitation/create",
        {"action": "decline"},
        "ElicitResult",
    )
    assert only_text(result) == "User response: action=decline, content={}"


async def test_elicitation_without_the_capability_fails_fast(session):
    result = await call(session, "test_elicitation", {"message": "m"})
    assert result["isError"] is True
    assert "elicitation" in only_text(result)


async def test_elicitation_sep1034_defaults(capable):
    # The published 2025-11-25 schema types ElicitResult content values as string, integer,
    # boolean or string array (no fractional numbers), so the answer keeps to integers.
    reply = {"action": "accept", "content": {"name": "Jane", "age": 31, "score": 90}}
    request, _, result = await round_trip(
        capable, "test_elicitation_sep1034_defaults", {}, "elicitation/create", reply, "ElicitResult"
    )
    params = request["params"]
    assert params["message"] == "Please review and update the form fields with defaults"
    schema = params["requestedSchema"]
    assert schema["required"] == []
    props = schema["properties"]
    assert set(props) == {"name", "age", "score", "status", "verified"}
    assert (props["name"]["type"], props["name"]["default"]) == ("string", "John Doe")
    assert (props["age"]["type"], props["age"]["default"]) == ("integer", 30)
    assert (props["score"]["type"], props["score"]["default"]) == ("number", 95.5)
    assert props["status"]["type"] == "string"
    assert props["status"]["enum"] == ["active", "inactive", "pending"]
    assert props["status"]["default"] == "active"
    assert (props["verified"]["type"], props["verified"]["default"]) == ("boolean", True)
    text = only_text(result)
    assert "action=accept" in text and '"name":"Jane"' in text


async def test_elicitation_sep1330_enums(capable):
    reply = {
        "action": "accept",
        "content": {"untitledSingle": "option1", "titledMulti": ["value1", "value3"]},
    }
    request, _, result = await round_trip(
        capable, "test_elicitation_sep1330_enums", {}, "elicitation/create", reply, "ElicitResult"
    )
    props = request["params"]["requestedSchema"]["properties"]
    assert set(props) == {"untitledSingle", "titledSingle", "legacyEnum", "untitledMulti", "titledMulti"}

    untitled = props["untitledSingle"]
    assert untitled["type"] == "string" and untitled["enum"] == ["option1", "option2", "option3"]
    assert "oneOf" not in untitled and "enumNames" not in untitled

    titled = props["titledSingle"]
    assert titled["type"] == "string" and "enum" not in titled
    assert titled["oneOf"] == [
        {"const": "value1", "title": "First Option"},
        {"const": "value2", "title": "Second Option"},
        {"const": "value3", "title": "Third Option"},
    ]

    legacy = props["legacyEnum"]
    assert legacy["type"] == "string" and legacy["enum"] == ["opt1", "opt2", "opt3"]
    assert legacy["enumNames"] == ["Option One", "Option Two", "Option Three"]

    multi = props["untitledMulti"]
    assert (multi["type"], multi["minItems"], multi["maxItems"]) == ("array", 1, 3)
    assert multi["items"] == {"type": "string", "enum": ["option1", "option2", "option3"]}

    titled_multi = props["titledMulti"]
    assert (titled_multi["type"], titled_multi["minItems"], titled_multi["maxItems"]) == ("array", 1, 3)
    assert titled_multi["items"] == {
        "anyOf": [
            {"const": "value1", "title": "First Choice"},
            {"const": "value2", "title": "Second Choice"},
            {"const": "value3", "title": "Third Choice"},
        ]
    }
    assert "action=accept" in only_text(result)


# --- Reconnection (SEP-1699) ------------------------------------------------------------------


async def test_reconnection_result_arrives_on_the_resumed_stream(session):
    # As the suite sends it: a 2025-03-26 header on a 2025-11-25 session.
    response = await session.post(
        {"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {"name": "test_reconnection"}},
        **{"MCP-Protocol-Version": "2025-03-26", "Accept": "text/event-stream, application/json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert events, response.text
    priming = events[0]
    assert priming.id and priming.data == "", "a priming event: an id and empty data"
    assert any(event.retry is not None for event in events) or "retry:" in response.text
    assert not [e for e in events if e.data.strip()], "the stream closes before the result"

    resumed = await session.http.get(
        session.path,
        headers=session.headers(Accept="text/event-stream", **{"Last-Event-ID": priming.id}),
    )
    assert resumed.status_code == 200
    assert resumed.headers["content-type"].startswith("text/event-stream")
    replayed = [event for event in parse_sse(resumed.text) if event.data.strip()]
    assert len(replayed) == 1
    message = assert_valid(replayed[0].json, "CallToolResult")
    assert replayed[0].id
    assert message["id"] == 41
    assert "isError" not in message["result"]
    assert "Reconnection test completed" in only_text(message["result"])


async def test_reconnection_answers_directly_when_the_client_takes_only_json(session):
    response = await session.request(
        "tools/call", {"name": "test_reconnection", "arguments": {}}, Accept="application/json"
    )
    assert response.headers["content-type"] == "application/json"
    (message,) = assert_all_valid(messages_of(response), "CallToolResult")
    assert "Reconnection test completed" in only_text(message["result"])


# --- Resources --------------------------------------------------------------------------------


async def test_resources_list(session):
    resources = {
        r["uri"]: r for r in await all_pages(session, "resources/list", "resources", "ListResourcesResult")
    }
    expected = {
        "test://static-text": "text/plain",
        "test://static-binary": "image/png",
        "test://watched-resource": "text/plain",
    }
    for uri, mime_type in expected.items():
        assert resources[uri]["name"] and resources[uri]["description"]
        assert resources[uri]["mimeType"] == mime_type


async def test_resource_templates_list(session):
    templates = await all_pages(
        session, "resources/templates/list", "resourceTemplates", "ListResourceTemplatesResult"
    )
    (template,) = [t for t in templates if t["uriTemplate"] == "test://template/{id}/data"]
    assert template["name"] and template["description"]
    assert template["mimeType"] == "application/json"


async def test_read_static_text(session):
    result = await result_of(session, "resources/read", {"uri": "test://static-text"}, "ReadResourceResult")
    assert result["contents"] == [
        {
            "uri": "test://static-text",
            "mimeType": "text/plain",
            "text": "This is the content of the static text resource.",
        }
    ]


async def test_read_static_binary(session):
    result = await result_of(session, "resources/read", {"uri": "test://static-binary"}, "ReadResourceResult")
    assert result["contents"] == [
        {"uri": "test://static-binary", "mimeType": "image/png", "blob": PNG_BASE64}
    ]


async def test_read_watched_resource(session):
    result = await result_of(
        session, "resources/read", {"uri": "test://watched-resource"}, "ReadResourceResult"
    )
    (contents,) = result["contents"]
    assert contents["uri"] == "test://watched-resource"
    assert contents["mimeType"] == "text/plain" and contents["text"]


async def test_read_template(session):
    uri = "test://template/123/data"
    result = await result_of(session, "resources/read", {"uri": uri}, "ReadResourceResult")
    (contents,) = result["contents"]
    assert contents["uri"] == uri and contents["mimeType"] == "application/json"
    assert "123" in contents["text"]
    assert orjson.loads(contents["text"]) == {"id": "123", "templateTest": True, "data": "Data for ID: 123"}


async def test_read_unknown_test_resource_is_resource_not_found(session):
    error = await error_of(session, "resources/read", {"uri": "test://template/123/other"})
    assert error["code"] == -32002


async def test_subscribe_and_unsubscribe_watched_resource(session):
    params = {"uri": "test://watched-resource"}
    assert await result_of(session, "resources/subscribe", params, "EmptyResult") == {}
    assert await result_of(session, "resources/unsubscribe", params, "EmptyResult") == {}


# --- Prompts and completion --------------------------------------------------------------------


async def test_prompts_list(session):
    prompts = {p["name"]: p for p in await all_pages(session, "prompts/list", "prompts", "ListPromptsResult")}
    names = {
        "test_simple_prompt",
        "test_prompt_with_arguments",
        "test_prompt_with_embedded_resource",
        "test_prompt_with_image",
    }
    assert names <= set(prompts)
    assert all(prompts[name]["description"] for name in names)
    assert prompts["test_prompt_with_arguments"]["arguments"] == [
        {"name": "arg1", "description": "First test argument", "required": True},
        {"name": "arg2", "description": "Second test argument", "required": True},
    ]
    (argument,) = prompts["test_prompt_with_embedded_resource"]["arguments"]
    assert argument["name"] == "resourceUri" and argument["required"] is True
    assert "arguments" not in prompts["test_simple_prompt"]
    assert "arguments" not in prompts["test_prompt_with_image"]


async def test_get_simple_prompt(session):
    result = await result_of(session, "prompts/get", {"name": "test_simple_prompt"}, "GetPromptResult")
    assert result["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}
    ]


async def test_get_prompt_with_arguments(session):
    params = {"name": "test_prompt_with_arguments", "arguments": {"arg1": "testValue1", "arg2": "testValue2"}}
    result = await result_of(session, "prompts/get", params, "GetPromptResult")
    (message,) = result["messages"]
    assert message["role"] == "user"
    assert message["content"]["text"] == "Prompt with arguments: arg1='testValue1', arg2='testValue2'"


async def test_get_prompt_with_arguments_needs_both(session):
    params = {"name": "test_prompt_with_arguments", "arguments": {"arg1": "x"}}
    error = await error_of(session, "prompts/get", params)
    assert error["code"] == -32602 and "arg2" in error["message"]


async def test_get_prompt_with_embedded_resource(session):
    params = {
        "name": "test_prompt_with_embedded_resource",
        "arguments": {"resourceUri": "test://example-resource"},
    }
    result = await result_of(session, "prompts/get", params, "GetPromptResult")
    assert result["messages"] == [
        {
            "role": "user",
            "content": {
                "type": "resource",
                "resource": {
                    "uri": "test://example-resource",
                    "mimeType": "text/plain",
                    "text": "Embedded resource content for testing.",
                },
            },
        },
        {"role": "user", "content": {"type": "text", "text": "Please process the embedded resource above."}},
    ]


async def test_get_prompt_with_image(session):
    result = await result_of(session, "prompts/get", {"name": "test_prompt_with_image"}, "GetPromptResult")
    assert result["messages"] == [
        {"role": "user", "content": {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}},
        {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}},
    ]


async def complete(client: McpClient, argument: str, value: str) -> dict[str, Any]:
    params = {
        "ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
        "argument": {"name": argument, "value": value},
    }
    return (await result_of(client, "completion/complete", params, "CompleteResult"))["completion"]


async def test_completion_filters_by_prefix(session):
    completion = await complete(session, "arg1", "test")
    assert completion["values"] and all(value.startswith("test") for value in completion["values"])
    assert "testValue1" in completion["values"]
    assert completion["total"] == len(completion["values"]) and completion["hasMore"] is False


async def test_completion_is_case_insensitive_and_may_be_empty(session):
    assert "testValue2" in (await complete(session, "arg2", "TESTV"))["values"]
    assert (await complete(session, "arg1", "zzz"))["values"] == []
    assert (await complete(session, "unknown", ""))["values"] == []
    assert len((await complete(session, "arg1", ""))["values"]) >= 3
