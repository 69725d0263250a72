"""Every policy rule over every registered path, in jwt and embedded modes, against real servers.

The table is ``CASES``: a rule (who asks, with which token, for what) and, per path, what the
client must see: HTTP status, and the JSON-RPC error code or text of the answer. A path is a
way an MCP message reaches the server (``mcp.policy.paths.PATHS``, registered by the
transports); ``RUNNERS`` holds one function per path that carries a message there exactly as a
client would. ``test_every_registered_path_has_a_runner`` fails when a transport registers a
path this table does not cover.

Two of the rows are the step-up bypasses this seam closed: a 2025-03-26 batch element and the
legacy /messages transport ran a step-up tool that the single-message path refused.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.live import LiveServer, SseStream, start_server
from tests.e2e.oauth_flow import Pkce, authorize, exchange, redirect_params, register
from tests.support.tokens import SECRET, hs_token

pytestmark = pytest.mark.e2e

MODES = ["jwt", "embedded"]
RATE_LIMIT = 40
MAX_BODY = 200_000
MAX_RESPONSE = 100_000
STEP_UP_TOOL = "echo"  # MCP_OAUTH_STEP_UP_TOOLS
PER_TOKEN_TOOL = "whoIStheGOAT"  # misbehave=step_up:<tool>
ACCEPT = "application/json, text/event-stream"
MODERN = "2026-07-28"
_ids = itertools.count(1)
_subjects = itertools.count(1)


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": next(_ids),
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }


# --- Servers and tokens -------------------------------------------------------------------------


@dataclass
class Mode:
    name: str
    server: LiveServer
    http: httpx.AsyncClient
    oauth_client: str = ""

    async def token(self, subject: str, *, scope: str = "mcp:tools", per_token_step_up: bool = False) -> str:
        if self.name == "jwt":
            return hs_token(sub=subject, aud=self.server.url + "/mcp", scope=scope)
        with httpx.Client(base_url=self.server.url, timeout=30) as sync:
            if not self.oauth_client:
                self.oauth_client = register(sync)["client_id"]
            pkce = Pkce()
            extra = {"login_hint": subject, "scope": scope}
            if per_token_step_up:
                extra["misbehave"] = f"step_up:{PER_TOKEN_TOOL}"
            code = redirect_params(authorize(sync, self.oauth_client, pkce, **extra))["code"]
            answer = exchange(sync, self.oauth_client, code, pkce)
            assert answer.status_code == 200, answer.text
            return answer.json()["access_token"]


def server_env(mode: str) -> dict[str, str]:
    env = {
        "MCP_RESOURCE_URL": "http://127.0.0.1:{port}/mcp",
        "MCP_REQUIRED_SCOPES": "mcp:tools",
        "MCP_RATE_LIMIT": str(RATE_LIMIT),
        "MCP_RATE_WINDOW": "3600",
        "MCP_MAX_BODY_BYTES": str(MAX_BODY),
        "MCP_MAX_RESPONSE_BYTES": str(MAX_RESPONSE),
        "MCP_KEEPALIVE_INTERVAL": "0.3",
        "MCP_OAUTH_STEP_UP_TOOLS": STEP_UP_TOOL,
    }
    if mode == "jwt":
        issuer = "https://auth.example.com"
        env.update(
            MCP_AUTH="jwt", MCP_JWT_SECRET=SECRET, MCP_JWT_ISSUER=issuer, MCP_AUTHORIZATION_SERVERS=issuer
        )
    else:
        env.update(MCP_AUTH="embedded", MCP_OAUTH_CONSENT="auto", MCP_OAUTH_REGISTRATIONS_PER_ADDRESS="1000")
    return env


@pytest.fixture(scope="module", params=MODES)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp(f"policy-{request.param}"), server_env(request.param))
    server.mode = request.param  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
async def mode(live: LiveServer) -> AsyncIterator[Mode]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        yield Mode(live.mode, live, http)  # type: ignore[attr-defined]


# --- What a client sees -------------------------------------------------------------------------


@dataclass
class Seen:
    """The outcome of one exchange: HTTP status, and the JSON-RPC answer to the message, if any."""

    status: int
    answer: dict[str, Any] | None = None
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> dict[str, Any]:
        assert self.answer is not None and "error" in self.answer, self
        return self.answer["error"]


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def seen(response: httpx.Response) -> Seen:
    text = response.text
    answer = None
    if response.headers.get("content-type", "").startswith("application/json") and text:
        answer = json.loads(text)
        if isinstance(answer, list):
            answer = answer[0]
    elif response.headers.get("content-type", "").startswith("text/event-stream"):
        answers = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")]
        answer = next((item for item in answers if "id" in item and "method" not in item), None)
    return Seen(response.status_code, answer, text, dict(response.headers))


class Refused(Exception):
    """The exchange that sets a path up (initialize, GET /sse) was refused: what was seen."""

    def __init__(self, outcome: Seen) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


async def session(mode: Mode, token: str, version: str = "2025-11-25") -> str:
    init = {
        "jsonrpc": "2.0",
        "id": next(_ids),
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "policy", "version": "1"},
        },
    }
    response = await mode.http.post("/mcp", json=init, headers={"Accept": ACCEPT, **bearer(token)})
    if response.status_code != 200:
        raise Refused(await seen(response))
    sid = response.headers["mcp-session-id"]
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    headers = {"Accept": ACCEPT, "Mcp-Session-Id": sid, "MCP-Protocol-Version": version, **bearer(token)}
    assert (await mode.http.post("/mcp", json=note, headers=headers)).status_code == 202
    return sid


async def first_event(response: httpx.Response) -> Seen:
    """An opened stream: its status, and its first event or comment (then it is closed)."""
    if response.status_code != 200:
        await response.aread()
        return await seen(response)
    stream = SseStream(response)
    try:
        item = await stream.next(10)
    finally:
        await stream.aclose()
    data = item.data or ""
    return Seen(200, json.loads(data) if data.startswith("{") else None, data, dict(response.headers))


# --- The paths: one runner each, sending ``message`` with ``token`` as a client would ----------
# ``owner`` is the token that opened the session (the same as ``token`` unless the row tests
# ownership); a runner returns what the client saw.

Runner = Callable[[Mode, str | None, str, dict[str, Any]], Awaitable[Seen]]


async def single(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    sid = await session(mode, owner)
    headers = {"Accept": ACCEPT, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25", **bearer(token)}
    return await seen(await mode.http.post("/mcp", json=message, headers=headers))


async def task(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    sid = await session(mode, owner)
    headers = {"Accept": ACCEPT, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25", **bearer(token)}
    augmented = {**message, "params": {**message["params"], "task": {"ttl": 60_000}}}
    created = await seen(await mode.http.post("/mcp", json=augmented, headers=headers))
    if created.status != 200 or created.answer is None or "result" not in created.answer:
        return created
    task_id = created.answer["result"]["task"]["taskId"]
    result = {"jsonrpc": "2.0", "id": next(_ids), "method": "tasks/result", "params": {"taskId": task_id}}
    return await seen(await mode.http.post("/mcp", json=result, headers=headers))


async def batch(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    sid = await session(mode, owner, "2025-03-26")
    headers = {"Accept": ACCEPT, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-03-26", **bearer(token)}
    return await seen(await mode.http.post("/mcp", json=[message], headers=headers))


async def legacy(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    headers = {"Accept": "text/event-stream", **bearer(owner)}
    async with mode.http.stream("GET", "/sse", headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
            raise Refused(await seen(response))
        stream = SseStream(response)
        try:
            endpoint = (await stream.next(10)).data
            assert endpoint and endpoint.startswith("/messages"), endpoint
            post = {"Content-Type": "application/json", **bearer(token)}
            init = {
                "jsonrpc": "2.0",
                "id": next(_ids),
                "method": "initialize",
                "params": {
                    "protocolVersion": "2024-11-05",
                    "capabilities": {},
                    "clientInfo": {"name": "p", "version": "1"},
                },
            }
            first = await mode.http.post(
                endpoint, json=init, headers={"Content-Type": "application/json", **bearer(owner)}
            )
            assert first.status_code == 202, first.text
            assert (await stream.next_message(10))["id"] == init["id"]
            sent = await mode.http.post(endpoint, json=message, headers=post)
            if sent.status_code != 202:
                return await seen(sent)
            answer = await stream.next_message(10)
            while answer.get("id") != message["id"]:
                answer = await stream.next_message(10)
            return Seen(202, answer)
        finally:
            await stream.aclose()


async def legacy_stream(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    async with mode.http.stream(
        "GET", "/sse", headers={"Accept": "text/event-stream", **bearer(token)}
    ) as response:
        return await first_event(response)


def modern_headers(message: dict[str, Any], token: str | None) -> dict[str, str]:
    headers = {
        "Accept": ACCEPT,
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": message["method"],
        **bearer(token),
    }
    name = message["params"].get("name")
    if isinstance(name, str):
        headers["Mcp-Name"] = name
    return headers


def modern(message: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "policy", "version": "1"},
    }
    return {**message, "params": {**message["params"], "_meta": meta}}


async def stateless(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    body = modern(message)
    return await seen(await mode.http.post("/mcp", json=body, headers=modern_headers(body, token)))


async def listen(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    body = modern(
        {
            "jsonrpc": "2.0",
            "id": next(_ids),
            "method": "subscriptions/listen",
            "params": {"notifications": {}},
        }
    )
    async with mode.http.stream("POST", "/mcp", json=body, headers=modern_headers(body, token)) as response:
        return await first_event(response)


async def stream(mode: Mode, token: str | None, owner: str, message: dict[str, Any]) -> Seen:
    sid = await session(mode, owner)
    headers = {
        "Accept": "text/event-stream",
        "Mcp-Session-Id": sid,
        "MCP-Protocol-Version": "2025-11-25",
        **bearer(token),
    }
    async with mode.http.stream("GET", "/mcp", headers=headers) as response:
        return await first_event(response)


RUNNERS: dict[str, Runner] = {
    "single": single,
    "task": task,
    "batch": batch,
    "legacy": legacy,
    "legacy-stream": legacy_stream,
    "stateless": stateless,
    "listen": listen,
    "stream": stream,
}
# Paths that carry a client's message (a tool call); the others open a stream.
MESSAGE_PATHS = ["single", "task", "batch", "legacy", "stateless"]
STREAM_PATHS = ["legacy-stream", "listen", "stream"]
SESSION_PATHS = ["single", "task", "batch", "legacy", "stream"]


def test_every_registered_path_has_a_runner():
    import echoserver.urls  # noqa: F401 (the transports register their paths at import)
    from mcp.policy.paths import PATHS

    assert set(PATHS) == set(RUNNERS), "a transport registered a path this table does not cover"
    assert set(MESSAGE_PATHS) | set(STREAM_PATHS) == set(RUNNERS)


# --- The rules ----------------------------------------------------------------------------------


@dataclass
class Case:
    """``expect`` per path: (HTTP status, JSON-RPC error code or None for a result, text in the
    answer or ""); ``modes``: where the rule applies."""

    rule: str
    expect: dict[str, tuple[int, int | None, str]]
    modes: tuple[str, ...] = tuple(MODES)
    token: str = "good"  # good, none, forged, no-scope, per-token-step-up, other-owner
    message: Callable[[], dict[str, Any]] = lambda: call("whoIStheGOAT")


def everywhere(
    outcome: tuple[int, int | None, str], paths: list[str] | None = None
) -> dict[str, tuple[int, int | None, str]]:
    return dict.fromkeys(paths or list(RUNNERS), outcome)


OK_CALL = {
    **everywhere((200, None, ""), MESSAGE_PATHS),
    "legacy": (202, None, ""),
    **everywhere((200, None, ""), STREAM_PATHS),
}
STEP_UP_REFUSED = {
    **everywhere(
        (403, None, "needs the scope mcp:elevated"), ["single", "task", "batch", "legacy", "stateless"]
    ),
}

CASES = [
    Case("a good token runs anything", OK_CALL),
    Case("no token: 401 everywhere", everywhere((401, None, "")), token="none"),
    Case("a forged token: 401 everywhere", everywhere((401, None, "")), token="forged"),
    Case("required scope missing: 403 everywhere", everywhere((403, None, "")), token="no-scope"),
    Case(
        "step-up tool (MCP_OAUTH_STEP_UP_TOOLS) without the step-up scope",
        STEP_UP_REFUSED,
        modes=("embedded",),
        message=lambda: call(STEP_UP_TOOL, message="x"),
    ),
    Case(
        "jwt mode has no step-up: the tool runs",
        {
            **everywhere((200, None, "x"), ["single", "task", "batch", "stateless"]),
            "legacy": (202, None, "x"),
        },
        modes=("jwt",),
        message=lambda: call(STEP_UP_TOOL, message="x"),
    ),
    Case(
        "per-token step-up (misbehave=step_up:<tool>)",
        STEP_UP_REFUSED,
        modes=("embedded",),
        token="per-token-step-up",
    ),
    Case(
        "another principal's session: 404",
        everywhere((404, None, ""), SESSION_PATHS),
        token="other-owner",
    ),
    Case(
        "an answer over the response budget: its JSON-RPC error",
        {
            **everywhere((200, -32603, "Response too large"), ["single", "task", "batch", "stateless"]),
            "legacy": (202, -32603, "Response too large"),
        },
        message=lambda: call("slowEcho", message="x" * (MAX_RESPONSE - 10), seconds=0),
    ),
]


def case_ids() -> Iterator[Any]:
    for case in CASES:
        for path in case.expect:
            yield pytest.param(case, path, id=f"{path}: {case.rule}")


async def token_for(mode: Mode, kind: str, subject: str) -> tuple[str | None, str]:
    """(the token the message is sent with, the token that opened the session)."""
    owner = await mode.token(subject)
    if kind == "good":
        return owner, owner
    if kind == "none":
        return None, owner
    if kind == "forged":
        return owner[:-4] + ("AAAA" if not owner.endswith("AAAA") else "BBBB"), owner
    if kind == "no-scope":
        return await mode.token(
            subject, scope="mcp:elevated" if mode.name == "embedded" else "mcp:read"
        ), owner
    if kind == "per-token-step-up":
        stepped = await mode.token(subject, per_token_step_up=True)
        return stepped, stepped
    if kind == "other-owner":
        return await mode.token(subject + "-intruder"), owner
    raise AssertionError(kind)


@pytest.mark.parametrize(("case", "path"), list(case_ids()))
async def test_rule_on_path(mode: Mode, case: Case, path: str):
    if mode.name not in case.modes:
        pytest.skip(f"{case.rule}: {mode.name} mode does not have this rule")
    token, owner = await token_for(mode, case.token, f"user-{next(_subjects)}")
    status, code, text = case.expect[path]
    outcome = await RUNNERS[path](mode, token, owner, case.message())
    assert outcome.status == status, (outcome.status, outcome.text[:400])
    if status in (401, 403) and path not in ("legacy",):
        assert "www-authenticate" in outcome.headers, outcome.headers
    if code is not None:
        assert outcome.error["code"] == code, outcome.answer
    if text:
        assert text in json.dumps(outcome.answer) + outcome.text, (outcome.answer, outcome.text[:400])


# --- Rate limits: one count per message, on every path -----------------------------------------


async def exhaust(mode: Mode, token: str) -> None:
    """Spend the principal's whole MCP_RATE_LIMIT (stateless pings, one message each)."""
    for _ in range(RATE_LIMIT + 1):
        body = modern({"jsonrpc": "2.0", "id": next(_ids), "method": "ping", "params": {}})
        answer = await mode.http.post("/mcp", json=body, headers=modern_headers(body, token))
        if answer.status_code == 429:
            return
    raise AssertionError("MCP_RATE_LIMIT never answered 429")


@pytest.mark.parametrize("path", list(RUNNERS))
async def test_rate_limit_on_path(mode: Mode, path: str):
    token = await mode.token(f"rate-{next(_subjects)}")
    await exhaust(mode, token)
    try:
        outcome = await RUNNERS[path](mode, token, token, call("whoIStheGOAT"))
    except Refused as refused:
        outcome = refused.outcome
    assert outcome.status == 429, (outcome.status, outcome.text[:300])
    assert int(outcome.headers["retry-after"]) >= 1


async def test_a_batch_counts_one_per_element_against_the_rate_limit(mode: Mode):
    token = await mode.token(f"rate-{next(_subjects)}")
    sid = await session(mode, token, "2025-03-26")
    headers = {"Accept": ACCEPT, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-03-26", **bearer(token)}
    pings = [{"jsonrpc": "2.0", "id": next(_ids), "method": "ping"} for _ in range(RATE_LIMIT)]
    answer = await mode.http.post("/mcp", json=pings, headers=headers)
    assert answer.status_code == 429, answer.text[:300]


# --- The response budget of a batch -------------------------------------------------------------


async def test_a_batch_answer_stays_within_the_response_budget(mode: Mode):
    token = await mode.token(f"budget-{next(_subjects)}")
    sid = await session(mode, token, "2025-03-26")
    headers = {"Accept": ACCEPT, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-03-26", **bearer(token)}
    calls = [call("slowEcho", message="x" * 40_000, seconds=0) for _ in range(4)]
    answer = await mode.http.post("/mcp", json=calls, headers=headers)
    assert answer.status_code == 200
    assert len(answer.content) <= MAX_RESPONSE
    answers = answer.json()
    assert [item["id"] for item in answers] == [item["id"] for item in calls]
    assert [("result" in item) for item in answers] == [True, True, False, False]
    assert all("Response too large" in item["error"]["message"] for item in answers[2:])


# --- Revocation ends every stream the token opened (embedded mode) -----------------------------

REVOCATION_DELAY = 5.0  # README: within one keep-alive interval (0.3 s here), checked generously


def progressing(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with a progressToken: its answer streams (progress) before the result."""
    meta = {**message["params"].get("_meta", {}), "progressToken": "p-1"}
    return {**message, "params": {**message["params"], "_meta": meta}}


async def open_with(mode: Mode, path: str, token: str) -> tuple[Any, httpx.Response]:
    """Open ``path``'s stream with ``token``: (the request's context manager, the response)."""
    if path == "stream":
        sid = await session(mode, token)
        headers = {"Accept": "text/event-stream", "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        manager = mode.http.stream("GET", "/mcp", headers={**headers, **bearer(token)})
    elif path == "legacy-stream":
        manager = mode.http.stream("GET", "/sse", headers={"Accept": "text/event-stream", **bearer(token)})
    elif path == "listen":
        listen_params = {"notifications": {}}
        body = modern(
            {"jsonrpc": "2.0", "id": next(_ids), "method": "subscriptions/listen", "params": listen_params}
        )
        manager = mode.http.stream("POST", "/mcp", json=body, headers=modern_headers(body, token))
    elif path == "single":
        sid = await session(mode, token)
        headers = {"Accept": "text/event-stream", "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        slow = progressing(call("slowEcho", message="x", seconds=60))
        manager = mode.http.stream("POST", "/mcp", json=slow, headers={**headers, **bearer(token)})
    else:
        body = progressing(modern(call("slowEcho", message="x", seconds=60)))
        headers = {**modern_headers(body, token), "Accept": "text/event-stream"}
        manager = mode.http.stream("POST", "/mcp", json=body, headers=headers)
    response = await manager.__aenter__()
    return manager, response


@pytest.mark.parametrize("path", ["stream", "legacy-stream", "listen", "single", "stateless"])
async def test_revocation_ends_every_stream_the_token_opened(mode: Mode, path: str):
    if mode.name != "embedded":
        pytest.skip("jwt mode has no revocation (the authorization server is elsewhere)")
    token = await mode.token(f"revoked-{next(_subjects)}")
    manager, response = await open_with(mode, path, token)
    try:
        assert response.status_code == 200
        stream = SseStream(response)
        await stream.next(10)  # open and flowing (an event, a priming event or a keep-alive)
        revoked = await mode.http.post("/oauth/revoke", data={"token": token, "client_id": mode.oauth_client})
        assert revoked.status_code == 200
        started = asyncio.get_running_loop().time()
        await stream.wait_end(REVOCATION_DELAY)
        assert asyncio.get_running_loop().time() - started < REVOCATION_DELAY
    finally:
        await manager.__aexit__(None, None, None)
    assert "the token that opened it was revoked" in mode.server.log(200_000)


# --- A path that skips the seam cannot run a method ----------------------------------------------


async def test_a_request_the_seam_did_not_clear_is_refused_by_the_method_table():
    from mcp.bus import get_bus
    from mcp.calls.context import Context
    from mcp.dispatch import sessions as dispatch
    from mcp.store import get_store
    from mcp.wire import jsonrpc
    from mcp.wire.request import RequestInfo

    info = RequestInfo(http_method="POST", path="/mcp", headers={})
    ctx = Context(request=info, session=None, store=get_store(), bus=get_bus())
    message = jsonrpc.classify({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    answer = await dispatch.respond(ctx, message)
    assert answer["error"]["code"] == -32603, answer
