"""The /mcp hot path stays on the event loop: no thread is started or borrowed per request.

Django's stock ASGI handler costs an OS thread per request (ThreadSensitiveContext plus
``sync_to_async(response.close)``); echoserver.handler.McpASGIHandler must not.
"""

from __future__ import annotations

import threading

from asgiref.sync import SyncToAsync


async def test_tool_calls_start_no_thread_and_hop_to_none(session, monkeypatch):
    starts: list[str] = []
    hops: list[str] = []
    original_start = threading.Thread.start
    original_call = SyncToAsync.__call__

    def counting_start(thread):
        starts.append(thread.name)
        return original_start(thread)

    async def counting_call(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original_call(self, *args, **kwargs)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    monkeypatch.setattr(SyncToAsync, "__call__", counting_call)
    for number in range(50):
        text = await session.tool_text("echo", {"message": f"m{number}"})
        assert text.endswith(f"m{number}")
    await session.rpc("ping")
    await session.rpc("tools/list")
    # Refusals too: a 404, a 400 and a 406 are answered on the loop.
    assert (await session.request("ping", **{"Mcp-Session-Id": "0" * 32})).status_code == 404
    assert (await session.post(b"{")).status_code == 400
    assert (await session.request("ping", Accept="text/html")).status_code == 406
    assert starts == []
    assert hops == []
