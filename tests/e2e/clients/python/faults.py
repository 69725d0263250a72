"""The official MCP Python SDK facing injected faults; print one JSON line of what happened.

Usage: python faults.py SCENARIO URL PROFILE_JSON, in the SDK's own virtualenv. The profile is
sent in the MCP-Faults header (read by the server on initialize only), so the client's own
code sets it up the way a client author's test harness would.

- resume: a request's SSE stream is dropped after its first event (resumable);
- expire: the session expires before the first tool call (404); the script then starts a
  new session itself, as a client must;
- unavailable: the first tool call gets 503 with Retry-After; the script then calls again.

What the SDK did is reported, not judged: the test states which faults the SDK handles.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from datetime import timedelta
from typing import Any

import httpx
from mcp.client.streamable_http import streamable_http_client

from mcp import ClientSession, types

TIMEOUT = 60.0
STEP = 10.0
CLIENT_INFO = types.Implementation(name="e2e-python-faults", version="1.0.0")
EXCHANGES: list[dict[str, Any]] = []
STARTED = time.monotonic()


class Recording(httpx.AsyncBaseTransport):
    """Notes each HTTP exchange: method, status, Last-Event-ID, Retry-After."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        method = json.loads(body).get("method") if body.startswith(b"{") else None
        response = await self.inner.handle_async_request(request)
        EXCHANGES.append(
            {
                "http": request.method,
                "rpc": method,
                "status": response.status_code,
                "lastEventId": request.headers.get("last-event-id"),
                "retryAfter": response.headers.get("retry-after"),
                "at": round(time.monotonic() - STARTED, 3),
            }
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def texts(result: types.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, types.TextContent)]


def leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


async def in_session(url: str, headers: dict[str, str], work: Any) -> dict[str, Any]:
    """Run ``work(session)`` in a fresh session; the outcome, or what the SDK raised."""
    outcome: dict[str, Any] = {}
    try:
        async with (
            httpx.AsyncClient(transport=Recording(), headers=headers, timeout=httpx.Timeout(STEP)) as http,
            streamable_http_client(url, http_client=http) as (read, write, get_session_id),
            ClientSession(
                read, write, read_timeout_seconds=timedelta(seconds=STEP), client_info=CLIENT_INFO
            ) as session,
        ):
            await asyncio.wait_for(session.initialize(), STEP)
            outcome["sessionId"] = get_session_id()
            outcome.update(await work(session))
    except BaseException as exc:
        outcome["raised"] = "; ".join(f"{type(leaf).__name__}: {leaf}" for leaf in leaves(exc))
    return outcome


async def call(session: ClientSession, name: str, args: dict[str, Any]) -> dict[str, Any]:
    try:
        result = await asyncio.wait_for(session.call_tool(name, args), STEP)
    except BaseException as exc:
        return {"error": "; ".join(f"{type(leaf).__name__}: {leaf}" for leaf in leaves(exc))}
    return {"texts": texts(result), "isError": bool(result.isError)}


async def resume(url: str, headers: dict[str, str]) -> dict[str, Any]:
    async def work(session: ClientSession) -> dict[str, Any]:
        return {"call": await call(session, "sendNotifications", {"count": 3, "target": "request"})}

    return {"first": await in_session(url, headers, work)}


async def expire(url: str, headers: dict[str, str]) -> dict[str, Any]:
    async def work(session: ClientSession) -> dict[str, Any]:
        return {"call": await call(session, "echo", {"message": "before expiry"})}

    first = await in_session(url, headers, work)

    async def again(session: ClientSession) -> dict[str, Any]:
        return {"call": await call(session, "echo", {"message": "after a new initialize"})}

    # A client told "session not found" must initialize again (without the fault this time).
    return {"first": first, "second": await in_session(url, {}, again)}


async def unavailable(url: str, headers: dict[str, str]) -> dict[str, Any]:
    async def work(session: ClientSession) -> dict[str, Any]:
        first = await call(session, "echo", {"message": "one"})
        second = await call(session, "echo", {"message": "two"})
        return {"call": first, "retry": second}

    first = await in_session(url, headers, work)

    async def again(session: ClientSession) -> dict[str, Any]:
        return {"call": await call(session, "echo", {"message": "after reconnecting"})}

    return {"first": first, "second": await in_session(url, {}, again)}


SCENARIOS = {"resume": resume, "expire": expire, "unavailable": unavailable}


def main() -> None:
    scenario, url, profile = sys.argv[1], sys.argv[2], sys.argv[3]
    outcome: dict[str, Any] = {"sdk": "python", "scenario": scenario}
    try:
        outcome.update(
            asyncio.run(asyncio.wait_for(SCENARIOS[scenario](url, {"MCP-Faults": profile}), TIMEOUT))
        )
        outcome["ok"] = True
    except BaseException as exc:
        outcome.update(ok=False, error="".join(traceback.format_exception(exc))[-4000:])
    outcome["exchanges"] = EXCHANGES
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
