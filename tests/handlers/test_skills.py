"""The skills extension (SEP-2640): skills/list, skills/get and resources/directory/read in
both eras, each listed file served with the very bytes its digest and size describe.

The official suite's sep-2640 scenarios (tests/e2e/test_conformance_next.py) check the same
surface against the live server; these tests pin what it does not: the session era, the
negotiation, the file bytes, and the toolset switch.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.support.client import McpClient
from tests.support.modern_client import modern_error, modern_post, modern_result

SKILLS = "io.modelcontextprotocol/skills"
DECLARES = {"extensions": {SKILLS: {}}}


@pytest.fixture
async def skills_session(mcp_client: McpClient) -> McpClient:
    result = await mcp_client.initialize(capabilities=DECLARES)
    assert result["capabilities"]["extensions"] == {SKILLS: {"directoryRead": True}}
    return mcp_client


async def test_a_session_that_does_not_declare_skills_is_not_offered_them(mcp_client: McpClient):
    result = await mcp_client.initialize(capabilities={})
    assert "extensions" not in result["capabilities"]


async def test_every_listed_file_is_served_with_the_bytes_its_digest_and_size_name(skills_session):
    listed = (await skills_session.rpc("skills/list", {}))["result"]
    assert "nextCursor" not in listed
    names = [entry["frontmatter"]["name"] for entry in listed["skills"]]
    assert names == ["diagnose-mcp-client", "test-apps-host"]
    for entry in listed["skills"]:
        assert entry["uri"] == f"skill://{entry['frontmatter']['name']}/SKILL.md"
        assert entry["resources"][0]["uri"] == entry["uri"]
        for file in entry["resources"]:
            (content,) = (await skills_session.rpc("resources/read", {"uri": file["uri"]}))["result"][
                "contents"
            ]
            data = content["text"].encode()
            assert content["mimeType"] == "text/markdown"
            assert (len(data), "sha256:" + hashlib.sha256(data).hexdigest()) == (file["size"], file["digest"])


async def test_get_answers_the_listed_entry_and_refuses_an_unknown_uri(skills_session):
    listed = (await skills_session.rpc("skills/list", {}))["result"]["skills"]
    got = (await skills_session.rpc("skills/get", {"uri": listed[1]["uri"]}))["result"]
    assert got == {"skill": listed[1]}
    for uri in ("skill://no-such-skill/SKILL.md", "skill://test-apps-host/references/REPORT.md"):
        error = (await skills_session.rpc("skills/get", {"uri": uri}))["error"]
        assert error["code"] == -32602 and uri in error["message"]


async def test_a_directory_lists_its_direct_children_and_a_file_is_no_directory(skills_session):
    root = (await skills_session.rpc("resources/directory/read", {"uri": "skill://test-apps-host"}))["result"]
    assert [(r["uri"], r["mimeType"]) for r in root["resources"]] == [
        ("skill://test-apps-host/references", "inode/directory"),
        ("skill://test-apps-host/SKILL.md", "text/markdown"),
    ]
    sub = await skills_session.rpc("resources/directory/read", {"uri": "skill://test-apps-host/references"})
    assert [r["uri"] for r in sub["result"]["resources"]] == ["skill://test-apps-host/references/REPORT.md"]
    error = await skills_session.rpc("resources/directory/read", {"uri": "skill://test-apps-host/SKILL.md"})
    assert error["error"]["code"] == -32602


async def test_a_stateless_client_gets_the_same_catalog_with_cache_hints(http, skills_session):
    result = modern_result(await modern_post(http, "skills/list", {}), "skills/list")
    assert result["skills"] == (await skills_session.rpc("skills/list", {}))["result"]["skills"]
    assert result["cacheScope"] == "public" and result["ttlMs"] >= 0
    modern_error(await modern_post(http, "skills/get", {"uri": "skill://nope/SKILL.md"}), 200, -32602)


async def test_with_the_skills_toolset_off_nothing_is_offered_or_served(http, mcp_client, settings):
    settings.MCP_TOOLSETS = ["debug"]
    discovered = modern_result(await modern_post(http, "server/discover", {}), "server/discover")
    assert SKILLS not in discovered["capabilities"]["extensions"]
    result = await mcp_client.initialize(capabilities=DECLARES)
    assert "extensions" not in result["capabilities"]
    assert (await mcp_client.rpc("skills/list", {}))["error"]["code"] == -32602
