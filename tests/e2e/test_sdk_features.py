"""The official SDKs, as real clients, against the server's diagnostic tools.

Each test runs one scenario of tests/e2e/clients/python/features.py (the Python SDK, in its
own virtualenv) or tests/e2e/clients/node/features.mjs (the TypeScript SDK) against the
module's live server, and asserts what a user of that SDK would notice: the sampling and
elicitation answers the client gave come back in the tool result, progress arrives in order
before the result, a dropped stream is resumed (GET + Last-Event-ID) and still delivers the
result, GET-stream notifications and list_changed reach the SDK's handlers, and the legacy
HTTP+SSE transport keeps session state (echo then replayLastEcho).

Both clients record the wire: every JSON-RPC message they sent and received, raw, is
validated against the official schema (tests/schema_check.py), the responses against the
result type of the request they answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deps import clean_env
from tests.e2e.live import LiveServer
from tests.support.schema_check import assert_valid, check

pytestmark = pytest.mark.e2e

CLIENTS_DIR = Path(__file__).parent / "clients"
PYTHON_FEATURES = CLIENTS_DIR / "python" / "features.py"
NODE_FEATURES = CLIENTS_DIR / "node" / "features.mjs"
# Each client bounds itself at 60 s (and each step at 15 s); this is the outer bound.
CLIENT_TIMEOUT = 90.0
SESSION_END_TIMEOUT = 5.0

RESULT_TYPES = {
    "initialize": "InitializeResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "sampling/createMessage": "CreateMessageResult",
    "elicitation/create": "ElicitResult",
}
RESUMED_TEXT = "This result was delivered after the stream was dropped and resumed."


# --- Running a client -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sdk:
    name: str
    command: list[str]
    cwd: Path
    client_name: str

    def run(
        self, scenario: str, url: str, server: LiveServer, *, step: float | None = None
    ) -> dict[str, Any]:
        """Run a scenario; ``step`` bounds each of the client's steps (15 s unless given)."""
        command = [*self.command, scenario, url]
        env = clean_env()
        if step is not None:
            env["E2E_STEP_SECONDS"] = str(step)
        try:
            done = subprocess.run(
                command,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=CLIENT_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{command} did not finish within {CLIENT_TIMEOUT:.0f}s\nserver log:\n{server.log()}")
        report = f"exit {done.returncode}\nstdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"{report}\nserver log:\n{server.log()}"
        outcome = json.loads(lines[-1])
        assert done.returncode == 0 and outcome.get("ok"), (
            f"{self.name} scenario {scenario} failed: {outcome.get('error')}\n"
            f"events: {outcome.get('events')}\nexchanges: {outcome.get('wire', {}).get('exchanges')}\n"
            f"stderr:\n{done.stderr[-4000:]}\nserver log:\n{server.log()}"
        )
        assert outcome["sdk"] == self.name and outcome["scenario"] == scenario, outcome
        return outcome


def python_client(request: pytest.FixtureRequest) -> Sdk:
    python = request.getfixturevalue("python_sdk")
    # -I: the SDK's ``mcp`` only; neither this repository nor PYTHONPATH is on sys.path.
    command = [str(python), "-I", str(PYTHON_FEATURES)]
    return Sdk("python", command, PYTHON_FEATURES.parent, "e2e-python-features")


def typescript_client(request: pytest.FixtureRequest) -> Sdk:
    node = shutil.which("node")
    assert node, "node is not on PATH; the TypeScript SDK tests need Node.js >= 18"
    request.getfixturevalue("node_client")
    return Sdk("typescript", [node, str(NODE_FEATURES)], NODE_FEATURES.parent, "e2e-typescript-features")


@pytest.fixture(params=["python", "typescript"])
def sdk(request: pytest.FixtureRequest) -> Sdk:
    """The client of one SDK; its dependencies are installed on first use."""
    return python_client(request) if request.param == "python" else typescript_client(request)


def wait_session_ended(server: LiveServer, outcome: dict[str, Any]) -> None:
    """The client ended its session (DELETE, or closing the legacy stream): the server no
    longer knows it (a ping on it is answered 404).
    """
    ping = {"jsonrpc": "2.0", "id": "e2e-probe", "method": "ping"}
    session_id = outcome["sessionId"]
    if outcome["scenario"] == "legacy":
        url, headers = f"{server.url}/messages?sessionId={session_id}", {}
    else:
        url = server.mcp_url
        headers = {
            "Accept": "application/json, text/event-stream",
            "Mcp-Session-Id": session_id,
            "MCP-Protocol-Version": outcome["protocolVersion"],
        }
    deadline = time.monotonic() + SESSION_END_TIMEOUT
    while True:
        status = httpx.post(url, json=ping, headers=headers, timeout=5).status_code
        if status == 404:
            return
        assert time.monotonic() < deadline, (
            f"session {session_id} still answers ({status}) after its client exited"
        )
        time.sleep(0.1)


# --- The wire -------------------------------------------------------------------------------


@dataclass
class Wire:
    """What one client sent and received, every message checked against the schema."""

    sent: list[dict[str, Any]]  # {"via": "POST 3", "message": {...}}
    received: list[dict[str, Any]]
    exchanges: list[dict[str, Any]]
    named_events: list[dict[str, Any]]

    def received_messages(self, method: str | None = None) -> list[dict[str, Any]]:
        return [e["message"] for e in self.received if method is None or e["message"].get("method") == method]

    def sent_request(self, method: str, name: str | None = None) -> dict[str, Any]:
        [request] = [
            e["message"]
            for e in self.sent
            if e["message"].get("method") == method
            and "id" in e["message"]
            and (name is None or e["message"]["params"].get("name") == name)
        ]
        return request

    def response_to(self, request: dict[str, Any]) -> dict[str, Any]:
        """The one response the client received to a request it sent."""
        [response] = [
            message
            for message in self.received_messages()
            if "method" not in message and message.get("id") == request["id"]
        ]
        return response

    def reply_to(self, request: dict[str, Any]) -> dict[str, Any]:
        """The one answer the client sent to a server request."""
        [reply] = [
            e["message"]
            for e in self.sent
            if "method" not in e["message"] and e["message"]["id"] == request["id"]
        ]
        return reply

    def index_of(self, message: dict[str, Any]) -> int:
        """The position of a received message among all the client received."""
        return next(index for index, e in enumerate(self.received) if e["message"] is message)

    def carrier(self, message: dict[str, Any]) -> dict[str, Any]:
        """The HTTP exchange that carried a message, received or sent."""
        entry = next(e for e in self.received + self.sent if e["message"] is message)
        return self.exchanges[int(entry["via"].split()[1])]


def validate_wire(outcome: dict[str, Any]) -> Wire:
    raw = outcome["wire"]
    wire = Wire(raw["sent"], raw["received"], raw["exchanges"], raw.get("namedEvents", []))
    for entry in wire.sent + wire.received:
        assert "message" in entry, f"a body that is not JSON: {entry}"
    assert wire.sent and wire.received, raw

    # Client -> server: requests, notifications, and the answers to the server's requests.
    sent_methods: dict[Any, str] = {}
    for entry in wire.sent:
        message = assert_valid(entry["message"])
        if "method" in message and "id" in message:
            check(message, "ClientRequest")
            assert message["id"] not in sent_methods, f"request id reused: {message}"
            sent_methods[message["id"]] = message["method"]
        elif "method" in message:
            check(message, "ClientNotification")

    # Server -> client.
    server_requests: dict[Any, str] = {}
    answered: list[Any] = []
    for entry in wire.received:
        message = entry["message"]
        if "method" in message:
            assert_valid(message)
            check(message, "ServerRequest" if "id" in message else "ServerNotification")
            if "id" in message:
                server_requests[message["id"]] = message["method"]
            continue
        assert message.get("id") in sent_methods, f"a response to no request of the client: {message}"
        assert_valid(message, RESULT_TYPES.get(sent_methods[message["id"]]))
        check(message["result"], "ServerResult")
        answered.append(message["id"])
    assert sorted(map(str, answered)) == sorted(map(str, sent_methods)), (
        f"each request answered once: sent {sent_methods}, answered {answered}"
    )

    # The client's answers to the server's requests.
    replies = [e["message"] for e in wire.sent if "method" not in e["message"]]
    assert sorted(str(reply["id"]) for reply in replies) == sorted(map(str, server_requests)), (
        f"each server request answered once: {server_requests}, {replies}"
    )
    for reply in replies:
        assert_valid(reply, RESULT_TYPES.get(server_requests[reply["id"]]))
        check(reply["result"], "ClientResult")
    return wire


def events(outcome: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [event for event in outcome["events"] if event["kind"] == kind]


def position(outcome: dict[str, Any], event: dict[str, Any]) -> int:
    return outcome["events"].index(event)


def check_session(outcome: dict[str, Any], version: str = "2025-11-25") -> None:
    assert outcome["sessionId"], outcome
    assert outcome["protocolVersion"] == version, outcome
    assert outcome["serverName"] == "mcp-echo-stateful-server", outcome
    assert not events(outcome, "transport_error"), outcome["events"]


# --- Scenarios ------------------------------------------------------------------------------


def test_sampling(sdk: Sdk, echo_server: LiveServer):
    outcome = sdk.run("sampling", echo_server.mcp_url, echo_server)
    check_session(outcome)
    wire = validate_wire(outcome)

    # The user sees the model's answer, as the client gave it, in the tool result.
    assert outcome["call"] == {
        "texts": [f"Sampling result from model {outcome['model']}: {outcome['answer']}"],
        "isError": False,
    }, outcome["call"]
    # The SDK's handler ran once, with the tool's prompt.
    [asked] = events(outcome, "sampling")
    assert asked["params"]["messages"] == [
        {"role": "user", "content": {"type": "text", "text": outcome["prompt"]}}
    ], asked
    assert asked["params"]["maxTokens"] == 100, asked
    [result] = events(outcome, "result")
    assert position(outcome, asked) < position(outcome, result)

    # On the wire: the request came on the tools/call's own stream, before its response.
    [request] = wire.received_messages("sampling/createMessage")
    call = wire.sent_request("tools/call", "requestSampling")
    response = wire.response_to(call)
    assert wire.index_of(request) < wire.index_of(response)
    assert wire.carrier(request) is wire.carrier(response) is wire.carrier(call), "not on the POST's stream"
    reply = wire.reply_to(request)
    assert reply["result"]["content"] == {"type": "text", "text": outcome["answer"]}, reply
    assert reply["result"]["model"] == outcome["model"], reply
    wait_session_ended(echo_server, outcome)


def test_elicitation(sdk: Sdk, echo_server: LiveServer):
    outcome = sdk.run("elicitation", echo_server.mcp_url, echo_server)
    check_session(outcome)
    wire = validate_wire(outcome)

    [text] = outcome["call"]["texts"]
    assert not outcome["call"]["isError"], outcome["call"]
    head, _, content = text.partition(", content=")
    assert head == "Elicitation answer: action=accept", text
    assert json.loads(content) == outcome["content"], text

    [asked] = events(outcome, "elicitation")
    assert asked["params"]["message"] == outcome["message"], asked
    schema = asked["params"]["requestedSchema"]
    assert schema["required"] == ["name"] and set(schema["properties"]) == {"name", "confirm"}, schema

    [request] = wire.received_messages("elicitation/create")
    call = wire.sent_request("tools/call", "requestElicitation")
    response = wire.response_to(call)
    assert wire.index_of(request) < wire.index_of(response)
    assert wire.carrier(request) is wire.carrier(response) is wire.carrier(call), "not on the POST's stream"
    reply = wire.reply_to(request)
    assert reply["result"] == {"action": "accept", "content": outcome["content"]}, reply
    wait_session_ended(echo_server, outcome)


def test_progress(sdk: Sdk, echo_server: LiveServer):
    outcome = sdk.run("progress", echo_server.mcp_url, echo_server)
    check_session(outcome)
    wire = validate_wire(outcome)

    assert outcome["call"] == {"texts": [outcome["message"]], "isError": False}, outcome["call"]
    # slowEcho for 2 s: progress 0, 1 and 2 of 2, one a second, all before the result.
    reported = events(outcome, "progress")
    values = [event["progress"]["progress"] for event in reported]
    assert values == [0, 1, 2], reported
    assert {event["progress"]["total"] for event in reported} == {2}, reported
    assert reported[-1]["progress"]["message"] == "done", reported
    [result] = events(outcome, "result")
    assert all(position(outcome, event) < position(outcome, result) for event in reported)
    assert reported[-1]["at"] - reported[0]["at"] >= 1500, f"not spread over the 2 s: {reported}"

    # On the wire: each notification carries the token the SDK put in the request's _meta.
    call = wire.sent_request("tools/call", "slowEcho")
    token = call["params"]["_meta"]["progressToken"]
    notifications = wire.received_messages("notifications/progress")
    assert [n["params"]["progressToken"] for n in notifications] == [token] * 3, notifications
    assert [n["params"]["progress"] for n in notifications] == [0, 1, 2], notifications
    response = wire.response_to(call)
    for notification in notifications:
        assert wire.index_of(notification) < wire.index_of(response)
        assert wire.carrier(notification) is wire.carrier(call), "progress not on the tools/call's stream"
    wait_session_ended(echo_server, outcome)


def check_resumed(
    outcome: dict[str, Any], version: str = "2025-11-25"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dropStream result reached the client on a GET that resumed the dropped POST stream;
    (the POST's exchange, the GET's).
    """
    check_session(outcome, version)
    wire = validate_wire(outcome)
    # The user gets the result although the server hung up the stream that was to carry it.
    assert outcome["call"] == {"texts": [RESUMED_TEXT], "isError": False}, outcome["call"]

    call = wire.sent_request("tools/call", "dropStream")
    post = wire.carrier(call)
    assert post["contentType"].startswith("text/event-stream"), post
    assert post["lastId"] and post["retry"] is not None, f"no event id or retry to resume with: {post}"
    assert post["messages"] == 0 and post["ended"] == "end", post
    # The result came on a GET that named the last event id of the dropped stream.
    resumed = wire.carrier(wire.response_to(call))
    assert resumed["method"] == "GET" and resumed["lastEventId"] == post["lastId"], resumed
    assert resumed["status"] == 200 and resumed["messages"] == 1, resumed
    return post, resumed


def test_resume(sdk: Sdk, echo_server: LiveServer):
    outcome = sdk.run("resume", echo_server.mcp_url, echo_server)
    post, resumed = check_resumed(outcome)
    # The SDK did the resuming itself (the TypeScript client would fall back to raw fetch).
    assert outcome["mode"] == "sdk", outcome
    # ... after the retry interval the server announced on the dropped stream.
    assert resumed["at"] - post["at"] >= post["retry"] * 0.9, (post, resumed)
    wait_session_ended(echo_server, outcome)


def test_resume_by_hand_typescript(request: pytest.FixtureRequest, echo_server: LiveServer):
    """The TypeScript client's fallback, always exercised: POST, read the SSE to its end, then
    GET with Last-Event-ID (raw fetch, on the SDK's session).
    """
    outcome = typescript_client(request).run("resume-raw", echo_server.mcp_url, echo_server)
    check_resumed(outcome)
    assert outcome["mode"] == "raw-fetch", outcome
    wait_session_ended(echo_server, outcome)


def test_resume_in_a_2025_06_18_session(sdk: Sdk, server_factory):
    """A server that speaks at most 2025-06-18 sends no priming events: the dropped stream must
    still give the client an event id to resume from (or dropStream must refuse, saying why),
    never leave the call without an answer.
    """
    server = server_factory(MCP_PROTOCOL_VERSIONS_SUPPORTED="2025-06-18,2025-03-26,2024-11-05")
    outcome = sdk.run("resume", server.mcp_url, server, step=5)
    if outcome["call"]["isError"]:
        check_session(outcome, "2025-06-18")
        assert "dropStream" in outcome["call"]["texts"][0], outcome["call"]
    else:
        check_resumed(outcome, "2025-06-18")
    wait_session_ended(server, outcome)


def test_notifications(sdk: Sdk, echo_server: LiveServer):
    outcome = sdk.run("notifications", echo_server.mcp_url, echo_server)
    check_session(outcome)
    wire = validate_wire(outcome)

    assert outcome["sent"]["texts"] == ["3 notifications queued on the session's GET stream"], outcome
    logs = events(outcome, "log")
    assert [log["params"] for log in logs] == [
        {"level": "info", "logger": "sendNotifications", "data": f"notification {n}/3"} for n in (1, 2, 3)
    ], logs
    assert len(events(outcome, "tools_list_changed")) == 1, outcome["events"]
    assert "dynamicEcho added" in outcome["triggered"]["texts"][0], outcome["triggered"]
    assert "dynamicEcho" not in outcome["toolsBefore"], outcome["toolsBefore"]
    assert "dynamicEcho" in outcome["toolsAfter"], outcome["toolsAfter"]
    assert set(outcome["toolsAfter"]) - set(outcome["toolsBefore"]) == {"dynamicEcho"}

    # On the wire: all four arrived, once each, on the session's GET stream.
    messages = wire.received_messages("notifications/message")
    assert [m["params"]["data"] for m in messages] == [f"notification {n}/3" for n in (1, 2, 3)], messages
    [list_changed] = wire.received_messages("notifications/tools/list_changed")
    for message in [*messages, list_changed]:
        carrier = wire.carrier(message)
        assert carrier["method"] == "GET" and carrier["lastEventId"] is None, carrier
    wait_session_ended(echo_server, outcome)


def test_legacy_sse_transport(sdk: Sdk, echo_server: LiveServer):
    outcome = sdk.run("legacy", f"{echo_server.url}/sse", echo_server)
    check_session(outcome)
    wire = validate_wire(outcome)
    session_id = outcome["sessionId"]

    [endpoint] = wire.named_events
    assert endpoint["event"] == "endpoint", endpoint
    assert endpoint["data"] == f"/messages?sessionId={session_id}", endpoint
    assert {"echo", "replayLastEcho", "requestSampling", "dropStream"} <= set(outcome["tools"])
    tag = f"Session {session_id[:8]}... from {sdk.client_name}"
    assert outcome["echo"] == {"texts": [f"[{tag}] {outcome['message']}"], "isError": False}, outcome["echo"]
    assert outcome["replay"] == {"texts": [f"[REPLAY - {tag}] {outcome['message']}"], "isError": False}, (
        outcome["replay"]
    )

    # One GET /sse carried every answer; every POST /messages was accepted with 202.
    [stream] = [x for x in wire.exchanges if x["method"] == "GET"]
    assert stream["path"] == "/sse", stream
    assert all(wire.carrier(message) is stream for message in wire.received_messages())
    posts = [x for x in wire.exchanges if x["method"] == "POST"]
    assert [x["path"] for x in posts] == ["/messages"] * len(wire.sent), posts
    assert all(x.get("status") in (202, None) for x in posts), posts
    assert sum(x.get("status") == 202 for x in posts) >= len(posts) - 1, posts
    # Closing the stream ended the session.
    wait_session_ended(echo_server, outcome)
