"""The content-stress tools: structured output, resource links, annotations, large and many."""

from __future__ import annotations

import jsonschema
import pytest

from tests.support.schema_check import assert_valid


async def tool_definition(session, name):
    tools = {tool["name"]: tool for tool in (await session.rpc("tools/list"))["result"]["tools"]}
    return tools[name]


async def test_structured_output_matches_its_output_schema(session):
    schema = (await tool_definition(session, "structuredOutput"))["outputSchema"]
    result = await session.call_tool("structuredOutput", {"city": "Porto"})
    jsonschema.validate(result["structuredContent"], schema)
    assert result["structuredContent"]["city"] == "Porto"
    assert '"city":"Porto"' in result["content"][0]["text"]


async def test_structured_output_can_break_its_schema_on_purpose(session):
    schema = (await tool_definition(session, "structuredOutput"))["outputSchema"]
    result = await session.call_tool("structuredOutput", {"conform": False})
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(result["structuredContent"]))
    assert {error.validator for error in errors} >= {"type", "enum", "required", "additionalProperties"}


async def test_resource_links_point_at_readable_resources_and_one_missing(session):
    result = await session.call_tool("resourceLinks")
    links = [block for block in result["content"] if block["type"] == "resource_link"]
    assert len(links) == 4
    for link in links[:-1]:
        read = await session.rpc("resources/read", {"uri": link["uri"]})
        assert read["result"]["contents"][0]["uri"] == link["uri"]
    missing = await session.rpc("resources/read", {"uri": links[-1]["uri"]})
    assert "error" in missing


async def test_annotated_content_annotates_every_kind_of_block(session):
    result = await session.call_tool("annotatedContent")
    kinds = {block["type"] for block in result["content"]}
    assert kinds == {"text", "image", "resource", "resource_link"}
    assert all("audience" in block["annotations"] for block in result["content"])


@pytest.mark.parametrize("unicode", [False, True])
async def test_large_text_has_the_exact_size_in_utf8(session, unicode):
    result = await session.call_tool("largeText", {"bytes": 300_001, "unicode": unicode})
    assert len(result["content"][0]["text"].encode()) == 300_001


async def test_large_text_stays_within_the_servers_limits(session):
    result = await session.call_tool("largeText", {"bytes": 10**9})
    assert result["isError"] is True and "MCP_MAX_BODY_BYTES" in result["content"][0]["text"]


async def test_many_blocks_returns_that_many_valid_blocks(session):
    response = await session.rpc(
        "tools/call", {"name": "manyBlocks", "arguments": {"count": 3000, "mixed": True}}
    )
    blocks = response["result"]["content"]
    assert len(blocks) == 3000
    assert {block["type"] for block in blocks} == {"text", "image", "resource_link"}
    assert_valid(response, "CallToolResult")
