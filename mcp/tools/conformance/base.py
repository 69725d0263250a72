"""Fixtures of the official MCP conformance suite (@modelcontextprotocol/conformance).

The suite calls tools, reads resources and gets prompts by fixed names and checks their
payloads (see the suite's server scenarios): the names, texts and schemas below are what it
expects. Everything else about them (descriptions, wording of results) is ours.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from mcp.errors import ToolError
from mcp.tools.content import Contents, PromptArgument, blob_contents, text_contents, user_text
from mcp.tools.registry import ToolResult, Toolset, text
from mcp.wire import jsonrpc

if TYPE_CHECKING:
    from mcp.calls.context import Context

TOOLSET = Toolset("conformance")

# A 1x1 red PNG and a minimal (empty) WAV file, base64.
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

# Pause between the notifications of the logging and progress tools.
STEP_SECONDS = 0.05
# How long test_reconnection keeps working after closing its stream.
RECONNECTION_DELAY = 0.1

STATIC_TEXT = "This is the content of the static text resource."
WATCHED_TEXT = "Watched resource content"


def _json(value: Any) -> str:
    return jsonrpc.encode(value).decode()


def _image() -> dict[str, Any]:
    return {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}


def _prompt_argument_schema(name: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string", "description": description, "maxLength": 100000}},
        "required": [name],
    }


# --- Tools: content types -------------------------------------------------------------------


@TOOLSET.tool("test_simple_text", "Return a single text content block")
async def simple_text(ctx: Context, args: dict[str, Any]) -> str:
    return "This is a simple text response for testing."


@TOOLSET.tool("test_image_content", "Return a single image content block (a 1x1 PNG)")
async def image_content(ctx: Context, args: dict[str, Any]) -> ToolResult:
    return ToolResult([_image()])


@TOOLSET.tool("test_audio_content", "Return a single audio content block (a minimal WAV file)")
async def audio_content(ctx: Context, args: dict[str, Any]) -> ToolResult:
    return ToolResult([{"type": "audio", "data": WAV_BASE64, "mimeType": "audio/wav"}])


@TOOLSET.tool("test_embedded_resource", "Return an embedded text resource")
async def embedded_resource(ctx: Context, args: dict[str, Any]) -> ToolResult:
    resource = {
        "uri": "test://embedded-resource",
        "mimeType": "text/plain",
        "text": "This is an embedded resource content.",
    }
    return ToolResult([{"type": "resource", "resource": resource}])


@TOOLSET.tool("test_multiple_content_types", "Return text, image and embedded resource content together")
async def multiple_content_types(ctx: Context, args: dict[str, Any]) -> ToolResult:
    resource = {
        "uri": "test://mixed-content-resource",
        "mimeType": "application/json",
        "text": _json({"test": "data", "value": 123}),
    }
    return ToolResult(
        [text("Multiple content types test:"), _image(), {"type": "resource", "resource": resource}]
    )


# --- Tools: notifications before the result ---------------------------------------------------


@TOOLSET.tool(
    "test_tool_with_logging",
    "Send three notifications/message (level info) on this request's stream, then answer",
)
async def tool_with_logging(ctx: Context, args: dict[str, Any]) -> str:
    steps = ("Tool execution started", "Tool processing data", "Tool execution completed")
    for number, message in enumerate(steps):
        if number:
            await asyncio.sleep(STEP_SECONDS)
        await ctx.log("info", message, "conformance")
    return "Tool with logging executed successfully"


@TOOLSET.tool(
    "test_tool_with_progress",
    "Report progress 0, 50 and 100 of 100 against the request's progressToken, then answer",
)
async def tool_with_progress(ctx: Context, args: dict[str, Any]) -> str:
    for number, progress in enumerate((0, 50, 100)):
        if number:
            await asyncio.sleep(STEP_SECONDS)
        await ctx.progress(progress, 100, f"Completed step {progress} of 100")
    token = ctx.progress_token
    return f"Progress reported against token {token}" if token is not None else "No progressToken given"


@TOOLSET.tool("test_error_handling", "Always fail: a tool result with isError true")
async def error_handling(ctx: Context, args: dict[str, Any]) -> str:
    raise ToolError("This tool intentionally returns an error for testing")


@TOOLSET.tool(
    "test_reconnection",
    "Close this request's SSE stream before answering (SEP-1699): the result is delivered when "
    "the client resumes with GET and Last-Event-ID",
)
async def reconnection(ctx: Context, args: dict[str, Any]) -> str:
    # hang_up gives the client an event id to resume from first; a JSON-only request just waits.
    if ctx.stream is not None:
        await ctx.stream.hang_up()
    await asyncio.sleep(RECONNECTION_DELAY)
    return "Reconnection test completed: this result reached the client after its stream was closed."


# --- Tools: server-to-client requests -------------------------------------------------------


def sampled_text(result: dict[str, Any]) -> str:
    """The text of a CreateMessageResult (one content block or a list of them)."""
    content = result.get("content")
    if content is None and isinstance(result.get("message"), dict):
        content = result["message"].get("content")
    blocks = content if isinstance(content, list) else [content]
    texts = [b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)]
    return "\n".join(texts) if texts else "(no text content)"


@TOOLSET.tool(
    "test_sampling",
    "Ask the client for an LLM completion of the prompt (sampling/createMessage) and return it",
    _prompt_argument_schema("prompt", "The prompt to send to the LLM"),
)
async def sampling(ctx: Context, args: dict[str, Any]) -> str:
    result = await ctx.ask_client(
        "sampling/createMessage",
        {"messages": [{"role": "user", "content": text(args["prompt"])}], "maxTokens": 100},
    )
    return f"LLM response: {sampled_text(result)}"


async def _elicit(ctx: Context, message: str, schema: dict[str, Any]) -> str:
    result = await ctx.ask_client("elicitation/create", {"message": message, "requestedSchema": schema})
    action = result.get("action")
    if action not in ("accept", "decline", "cancel"):
        raise ToolError(f"the client answered elicitation/create with an unknown action {action!r}")
    return f"action={action}, content={_json(result.get('content') or {})}"


@TOOLSET.tool(
    "test_elicitation",
    "Ask the user for a username and an email (elicitation/create) and return the answer",
    _prompt_argument_schema("message", "The message to show the user"),
)
async def elicitation(ctx: Context, args: dict[str, Any]) -> str:
    schema = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "title": "Username", "description": "Your username"},
            "email": {"type": "string", "title": "Email", "description": "Your email", "format": "email"},
        },
        "required": ["username", "email"],
    }
    return "User response: " + await _elicit(ctx, args["message"], schema)


SEP1034_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
    "required": [],
}


@TOOLSET.tool(
    "test_elicitation_sep1034_defaults",
    "Elicit a form whose string, integer, number, enum and boolean fields all have defaults (SEP-1034)",
)
async def elicitation_defaults(ctx: Context, args: dict[str, Any]) -> str:
    message = "Please review and update the form fields with defaults"
    return "Elicitation completed: " + await _elicit(ctx, message, SEP1034_SCHEMA)


def _titled(values: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"const": value, "title": title} for value, title in values]


SEP1330_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "untitledSingle": {
            "type": "string",
            "description": "Pick one option",
            "enum": ["option1", "option2", "option3"],
        },
        "titledSingle": {
            "type": "string",
            "description": "Pick one option (titled)",
            "oneOf": _titled(
                [("value1", "First Option"), ("value2", "Second Option"), ("value3", "Third Option")]
            ),
        },
        "legacyEnum": {
            "type": "string",
            "description": "Pick one option (legacy enumNames)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "Pick one to three options",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "description": "Pick one to three options (titled)",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": _titled(
                    [("value1", "First Choice"), ("value2", "Second Choice"), ("value3", "Third Choice")]
                )
            },
        },
    },
    "required": [],
}


@TOOLSET.tool(
    "test_elicitation_sep1330_enums",
    "Elicit a form with every enum variant: untitled, titled, legacy, multi-select (SEP-1330)",
)
async def elicitation_enums(ctx: Context, args: dict[str, Any]) -> str:
    message = "Please select options from the enum fields"
    return "Elicitation completed: " + await _elicit(ctx, message, SEP1330_SCHEMA)


# --- Tools: schemas -------------------------------------------------------------------------

# SEP-1613 and SEP-2106: $schema, $defs with $anchor, $ref, composition and conditionals.
JSON_SCHEMA_2020_12: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@TOOLSET.tool(
    "json_schema_2020_12_tool",
    "Echo arguments validated by a JSON Schema 2020-12 inputSchema ($schema, $defs, $anchor, $ref, "
    "allOf/anyOf, if/then/else: SEP-1613, SEP-2106)",
    JSON_SCHEMA_2020_12,
)
async def json_schema_2020_12(ctx: Context, args: dict[str, Any]) -> str:
    return f"JSON Schema 2020-12 tool called with: {_json(args)}"


# --- Resources ------------------------------------------------------------------------------


@TOOLSET.resource(
    "test://static-text",
    "static-text",
    title="Static Text Resource",
    description="A static text resource for testing",
    mime_type="text/plain",
)
async def static_text(ctx: Context, uri: str, params: dict[str, str]) -> Contents:
    return text_contents(uri, STATIC_TEXT)


@TOOLSET.resource(
    "test://static-binary",
    "static-binary",
    title="Static Binary Resource",
    description="A static binary resource for testing: a 1x1 PNG image",
    mime_type="image/png",
)
async def static_binary(ctx: Context, uri: str, params: dict[str, str]) -> Contents:
    return blob_contents(uri, base64.b64decode(PNG_BASE64), "image/png")


@TOOLSET.resource(
    "test://watched-resource",
    "watched-resource",
    title="Watched Resource",
    description="A text resource clients can subscribe to",
    mime_type="text/plain",
)
async def watched_resource(ctx: Context, uri: str, params: dict[str, str]) -> Contents:
    return text_contents(uri, WATCHED_TEXT)


@TOOLSET.template(
    "test://template/{id}/data",
    "template",
    title="Resource Template",
    description="JSON data for any id, substituted into the URI",
    mime_type="application/json",
)
async def template_data(ctx: Context, uri: str, params: dict[str, str]) -> Contents:
    item = params["id"]
    document = {"id": item, "templateTest": True, "data": f"Data for ID: {item}"}
    return text_contents(uri, _json(document), "application/json")


# --- Prompts and completion -----------------------------------------------------------------


@TOOLSET.prompt("test_simple_prompt", "A simple prompt without arguments", title="Simple Test Prompt")
async def simple_prompt(ctx: Context, arguments: dict[str, str]) -> list[dict[str, Any]]:
    return [user_text("This is a simple prompt for testing.")]


@TOOLSET.prompt(
    "test_prompt_with_arguments",
    "A prompt with two required arguments",
    (
        PromptArgument("arg1", "First test argument", required=True),
        PromptArgument("arg2", "Second test argument", required=True),
    ),
    title="Prompt With Arguments",
)
async def prompt_with_arguments(ctx: Context, arguments: dict[str, str]) -> list[dict[str, Any]]:
    return [user_text(f"Prompt with arguments: arg1='{arguments['arg1']}', arg2='{arguments['arg2']}'")]


@TOOLSET.prompt(
    "test_prompt_with_embedded_resource",
    "A prompt that embeds a text resource with the given URI",
    (PromptArgument("resourceUri", "URI of the resource to embed", required=True),),
    title="Prompt With Embedded Resource",
)
async def prompt_with_embedded_resource(ctx: Context, arguments: dict[str, str]) -> list[dict[str, Any]]:
    resource = {
        "uri": arguments["resourceUri"],
        "mimeType": "text/plain",
        "text": "Embedded resource content for testing.",
    }
    return [
        {"role": "user", "content": {"type": "resource", "resource": resource}},
        user_text("Please process the embedded resource above."),
    ]


@TOOLSET.prompt("test_prompt_with_image", "A prompt that includes an image", title="Prompt With Image")
async def prompt_with_image(ctx: Context, arguments: dict[str, str]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": _image()}, user_text("Please analyze the image above.")]


COMPLETIONS: dict[str, tuple[str, ...]] = {
    "arg1": ("test", "testValue1", "testing", "example", "sample"),
    "arg2": ("test", "testValue2", "second", "example", "sample"),
}


@TOOLSET.completion("ref/prompt", "test_prompt_with_arguments")
async def complete_prompt_arguments(
    ctx: Context, argument: str, value: str, context: dict[str, str]
) -> list[str]:
    prefix = value.casefold()
    return [
        candidate for candidate in COMPLETIONS.get(argument, ()) if candidate.casefold().startswith(prefix)
    ]
