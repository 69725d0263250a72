"""An ``oversized`` fault at the limit answers exactly MCP_MAX_BODY_BYTES (it was 30 bytes over,
so the response budget would have turned it into an error)."""

from __future__ import annotations

from django.conf import settings

from tests.faults.test_injection import set_faults


async def test_an_oversized_fault_at_the_limit_answers_exactly_the_limit(session):
    limit = settings.MCP_MAX_BODY_BYTES
    await set_faults(session, seed=1, oversized={"bytes": limit})
    response = await session.request("tools/call", {"name": "echo", "arguments": {"message": "big"}})
    assert len(response.content) == limit
    assert "big" in response.json()["result"]["content"][0]["text"]
