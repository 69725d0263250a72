"""Multi round-trip requests and state handles (2026-07-28), raw HTTP: InputRequiredResult, an
authenticated requestState (tampered, replayed, foreign, expired: refused), capabilities
(-32021), and echo/replayLastEcho through server-minted handles bound to their principal."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.modern_client import modern_error, modern_post, modern_result, request_meta
from tests.support.tokens import hs_token


def elicited(**content: Any) -> dict[str, Any]:
    return {"action": "accept", "content": content}


async def call(http, name: str, arguments: dict[str, Any] | None = None, **extra: Any):
    params = {"name": name, "arguments": arguments or {}, **extra.pop("params", {})}
    return await modern_post(http, "tools/call", params, **extra)


async def test_sampling_round_trip_through_input_required(http):
    first = modern_result(await call(http, "requestSampling", {"prompt": "Say hi"}), "tools/call")
    assert first["resultType"] == "input_required"
    ((key, request),) = first["inputRequests"].items()
    assert request["method"] == "sampling/createMessage"
    answer = {
        "role": "assistant",
        "content": {"type": "text", "text": "hi there"},
        "model": "m",
        "stopReason": "endTurn",
    }
    retry = {"inputResponses": {key: answer}, "requestState": first["requestState"]}
    done = modern_result(
        await call(http, "requestSampling", {"prompt": "Say hi"}, params=retry), "tools/call"
    )
    assert done["resultType"] == "complete"
    assert "hi there" in done["content"][0]["text"]


async def test_multi_round_state_carries_earlier_answers(http):
    name = "test_input_required_result_multi_round"
    first = modern_result(await call(http, name), "tools/call")
    assert list(first["inputRequests"]) == ["step1"]
    second = modern_result(
        await call(
            http,
            name,
            params={"inputResponses": {"step1": elicited(name="Ada")}, "requestState": first["requestState"]},
        ),
        "tools/call",
    )
    assert list(second["inputRequests"]) == ["step2"] and second["requestState"] != first["requestState"]
    third = modern_result(
        await call(
            http,
            name,
            params={
                "inputResponses": {"step2": elicited(color="teal")},
                "requestState": second["requestState"],
            },
        ),
        "tools/call",
    )
    assert third["content"][0]["text"] == "Multi-round complete for Ada who likes teal"


async def test_several_inputs_are_asked_at_once(http):
    first = modern_result(await call(http, "test_input_required_result_multiple_inputs"), "tools/call")
    methods = {key: request["method"] for key, request in first["inputRequests"].items()}
    assert methods == {
        "user_name": "elicitation/create",
        "greeting": "sampling/createMessage",
        "client_roots": "roots/list",
    }


async def _round_one(http) -> dict[str, Any]:
    return modern_result(await call(http, "test_input_required_result_tampered_state"), "tools/call")


async def _retry(http, state: str, name: str = "test_input_required_result_tampered_state", **extra: Any):
    params = {"inputResponses": {"confirm": elicited(ok=True)}, "requestState": state}
    return await call(http, name, params=params, **extra)


@pytest.mark.parametrize(
    "tamper", [lambda s: s + "-TAMPERED", lambda s: "x" + s[1:], lambda s: s.split(".")[0] + ".AAAA"]
)
async def test_a_tampered_state_is_refused(http, tamper):
    first = await _round_one(http)
    modern_error(await _retry(http, tamper(first["requestState"])), 200, -32602)


async def test_a_state_is_accepted_once(http):
    state = (await _round_one(http))["requestState"]
    done = modern_result(await _retry(http, state), "tools/call")
    assert done["content"][0]["text"] == "integrity-ok: state verified"
    error = modern_error(await _retry(http, state), 200, -32602)
    assert "already used" in error["error"]["message"]


async def test_a_state_belongs_to_its_call(http):
    state = (await _round_one(http))["requestState"]
    error = modern_error(
        await _retry(http, state, name="test_input_required_result_request_state"), 200, -32602
    )
    assert "another request" in error["error"]["message"]


async def test_a_state_expires(http, settings):
    settings.MCP_STATE_TTL = 1.0
    state = (await _round_one(http))["requestState"]
    await asyncio.sleep(2.2)
    error = modern_error(await _retry(http, state), 200, -32602)
    assert "expired" in error["error"]["message"]


async def test_input_is_asked_only_through_declared_capabilities(http):
    only_sampling = request_meta(capabilities={"sampling": {}})
    first = modern_result(
        await call(http, "test_input_required_result_capabilities", meta=only_sampling), "tools/call"
    )
    assert [request["method"] for request in first["inputRequests"].values()] == ["sampling/createMessage"]
    error = modern_error(
        await call(http, "requestElicitation", {"message": "?"}, meta=only_sampling), 400, -32021
    )
    assert error["error"]["data"] == {"requiredCapabilities": {"elicitation": {}}}
    error = modern_error(
        await call(http, "test_missing_capability", meta=request_meta(capabilities={})), 400, -32021
    )
    assert error["error"]["data"] == {"requiredCapabilities": {"sampling": {}}}


async def test_a_prompt_can_ask_for_input(http):
    params = {"name": "test_input_required_result_prompt"}
    first = modern_result(await modern_post(http, "prompts/get", params), "prompts/get")
    assert first["resultType"] == "input_required"
    retry = {
        **params,
        "inputResponses": {"user_context": elicited(context="tests")},
        "requestState": first["requestState"],
    }
    done = modern_result(await modern_post(http, "prompts/get", retry), "prompts/get")
    assert done["messages"][0]["content"]["text"] == "Prompt with context: tests"


# --- State handles -----------------------------------------------------------------------------


def _handle_of(text: str) -> str:
    return text.split("handle ", 1)[1].split(" ", 1)[0]


async def test_echo_mints_a_handle_that_replay_reads(http):
    echoed = modern_result(await call(http, "echo", {"message": "remember me"}), "tools/call")
    handle = _handle_of(echoed["content"][0]["text"])
    replay = modern_result(await call(http, "replayLastEcho", {"handle": handle}), "tools/call")
    assert replay["content"][0]["text"].endswith("remember me")
    again = modern_result(await call(http, "echo", {"message": "second", "handle": handle}), "tools/call")
    assert _handle_of(again["content"][0]["text"]) == handle
    replay = modern_result(await call(http, "replayLastEcho", {"handle": handle}), "tools/call")
    assert replay["content"][0]["text"].endswith("second")


async def test_calls_past_the_clients_limit_answer_without_a_handle_instead_of_failing(http, settings):
    # A load test of stateless echo mints a handle per call: at the limit it must go on working.
    settings.MCP_MAX_SESSIONS_PER_CLIENT = 2
    for _ in range(2):
        minted = modern_result(await call(http, "echo", {"message": "x"}), "tools/call")
        assert any(block["text"].startswith("State handle: ") for block in minted["content"])
    response = await call(http, "echo", {"message": "past the limit"})
    assert response.status_code == 200
    texts = [block["text"] for block in modern_result(response, "tools/call")["content"]]
    assert texts[0] == "past the limit"
    assert texts[1].startswith("No state handle:") and "MCP_MAX_SESSIONS_PER_CLIENT" in texts[1]
    # A handle it already holds still works.
    held = _handle_of(minted["content"][0]["text"])
    replay = modern_result(await call(http, "replayLastEcho", {"handle": held}), "tools/call")
    assert replay["content"][0]["text"].endswith("x")


async def test_replay_without_a_handle_or_with_an_unknown_one_is_a_tool_error(http):
    for arguments in ({}, {"handle": "0" * 32}, {"handle": "not a handle!"}):
        result = modern_result(await call(http, "replayLastEcho", arguments), "tools/call")
        assert result["isError"] is True


async def test_a_handle_is_bound_to_its_principal(http, jwt_mode):
    alice = {"Authorization": f"Bearer {hs_token(sub='alice')}"}
    bob = {"Authorization": f"Bearer {hs_token(sub='bob')}"}
    echoed = modern_result(await call(http, "echo", {"message": "alice's"}, headers=alice), "tools/call")
    handle = _handle_of(echoed["content"][0]["text"])
    theirs = modern_result(await call(http, "replayLastEcho", {"handle": handle}, headers=bob), "tools/call")
    assert theirs["isError"] is True and "Unknown or expired handle" in theirs["content"][0]["text"]
    mine = modern_result(await call(http, "replayLastEcho", {"handle": handle}, headers=alice), "tools/call")
    assert mine["content"][0]["text"].endswith("alice's")


def _note_handle(result: dict[str, Any]) -> str:
    notes = [block["text"] for block in result["content"] if block["text"].startswith("State handle: ")]
    assert len(notes) == 1, result
    return notes[0].split()[2]


async def test_the_calculator_history_lives_under_a_handle(http):
    first = modern_result(await call(http, "calculate", {"a": 2, "b": 3, "op": "add"}), "tools/call")
    handle = _note_handle(first)
    assert first["structuredContent"]["result"] == 5
    second = modern_result(
        await call(http, "calculate", {"a": 6, "b": 7, "op": "multiply", "handle": handle}), "tools/call"
    )
    assert not any(block["text"].startswith("State handle: ") for block in second["content"])
    listed = modern_result(await call(http, "calculationHistory", {"handle": handle}), "tools/call")
    assert [record["result"] for record in listed["structuredContent"]["calculations"]] == [5, 42]
    other = modern_result(await call(http, "calculationHistory"), "tools/call")
    assert other["content"][0]["text"] == "No calculations yet."


async def test_a_session_keeps_its_history_without_handles(session):
    await session.call_tool("calculate", {"a": 1, "b": 1, "op": "add"})
    listed = await session.call_tool("calculationHistory", {})
    assert [record["result"] for record in listed["structuredContent"]["calculations"]] == [2]
    assert all(not block["text"].startswith("State handle: ") for block in listed["content"])


async def test_a_handle_is_not_a_session_and_a_session_is_not_a_handle(http, session):
    echoed = modern_result(await call(http, "echo", {"message": "x"}), "tools/call")
    handle = _handle_of(echoed["content"][0]["text"])
    response = await http.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "Mcp-Session-Id": handle,
            "MCP-Protocol-Version": "2025-11-25",
            "Accept": "application/json",
        },
    )
    assert response.status_code == 404
    replay = modern_result(await call(http, "replayLastEcho", {"handle": session.session_id}), "tools/call")
    assert replay["isError"] is True
