from __future__ import annotations


async def test_echo_then_replay_returns_the_echoed_text(session):
    echoed = await session.tool_text("echo", {"message": "Hello, MCP!"})
    assert echoed.endswith("] Hello, MCP!")
    replayed = await session.tool_text("replayLastEcho", {})
    assert replayed.startswith("[REPLAY - Session ")
    assert replayed.endswith("Hello, MCP!")
