"""The tasks extension (io.modelcontextprotocol/tasks) for 2026-07-28 requests, raw HTTP: task
creation only for clients that opt in, the DetailedTask on tasks/get, input through tasks/update
(one answer at a time), cancellation, -32021 without the extension, and ownership."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.modern_client import CAPABILITIES, modern_error, modern_post, modern_result, request_meta
from tests.support.tokens import hs_token

TASKS = {"extensions": {"io.modelcontextprotocol/tasks": {}}}
WITH_TASKS = request_meta(capabilities={**CAPABILITIES, **TASKS})


async def call(http, name: str, arguments: dict[str, Any] | None = None, meta=WITH_TASKS, **extra: Any):
    params = {"name": name, "arguments": arguments or {}, **extra.pop("params", {})}
    return await modern_post(http, "tools/call", params, meta=meta, **extra)


async def task_request(http, method: str, task_id: str, meta=WITH_TASKS, **params: Any):
    return await modern_post(http, method, {"taskId": task_id, **params}, meta=meta)


async def until(http, task_id: str, *statuses: str) -> dict[str, Any]:
    for _ in range(100):  # bounded: these tasks take well under a second
        task = modern_result(await task_request(http, "tasks/get", task_id), "tasks/get")
        if task["status"] in statuses:
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {statuses}: {task}")


async def test_a_task_supporting_tool_answers_a_flat_create_task_result(http):
    created = modern_result(await call(http, "slow_compute", {"seconds": 0.2, "label": "x"}), "tools/call")
    assert created["resultType"] == "task" and created["status"] == "working"
    assert "task" not in created and "result" not in created and "requestState" not in created
    assert isinstance(created["ttlMs"], int) and isinstance(created["pollIntervalMs"], int)
    assert "ttl" not in created and "pollInterval" not in created
    done = await until(http, created["taskId"], "completed")
    assert done["resultType"] == "complete"
    assert done["result"]["content"][0]["text"] == "Computed x after 0.2s"


async def test_without_the_extension_tools_run_synchronously_or_are_refused(http):
    plain = request_meta()
    result = modern_result(await call(http, "slow_compute", {"seconds": 0}, meta=plain), "tools/call")
    assert result["resultType"] == "complete" and "taskId" not in result
    error = modern_error(await call(http, "failing_job", meta=plain), 400, -32021)
    assert error["error"]["data"] == {"requiredCapabilities": TASKS}
    for method in ("tasks/get", "tasks/update", "tasks/cancel"):
        modern_error(await task_request(http, method, "any", meta=plain, inputResponses={}), 400, -32021)


async def test_a_sync_only_tool_ignores_a_v1_task_hint(http):
    result = modern_result(
        await call(http, "greet", {"name": "Ada"}, params={"task": {"ttl": 1000}}), "tools/call"
    )
    assert result["content"][0]["text"] == "Hello, Ada!" and "taskId" not in result


async def test_tool_errors_complete_and_protocol_errors_fail(http):
    failing = modern_result(await call(http, "failing_job"), "tools/call")
    done = await until(http, failing["taskId"], "completed", "failed")
    assert done["status"] == "completed" and done["result"]["isError"] is True
    broken = modern_result(await call(http, "protocol_error_job"), "tools/call")
    failed = await until(http, broken["taskId"], "completed", "failed")
    assert failed["status"] == "failed" and "result" not in failed
    assert failed["error"]["code"] == -32603 and "errorId" in failed["error"]["data"]


async def test_input_is_delivered_one_answer_at_a_time(http):
    created = modern_result(await call(http, "multi_input"), "tools/call")
    task = await until(http, created["taskId"], "input_required")
    assert set(task["inputRequests"]) == {"first", "second"}
    assert all(request["method"] == "elicitation/create" for request in task["inputRequests"].values())
    answer = {"action": "accept", "content": {"value": "one"}}
    ack = await task_request(
        http, "tasks/update", created["taskId"], inputResponses={"first": answer, "bogus": {}}
    )
    assert modern_result(ack, "tasks/update") == {
        "resultType": "complete",
        "_meta": ack.json()["result"]["_meta"],
    }
    task = modern_result(await task_request(http, "tasks/get", created["taskId"]), "tasks/get")
    assert task["status"] == "input_required" and set(task["inputRequests"]) == {"second"}
    second = {"action": "accept", "content": {"value": "two"}}
    modern_result(
        await task_request(http, "tasks/update", created["taskId"], inputResponses={"second": second}), "x"
    )
    done = await until(http, created["taskId"], "completed")
    assert done["result"]["content"][0]["text"] == "first=one, second=two"


async def test_cancel_is_an_empty_ack_and_idempotent(http):
    created = modern_result(await call(http, "slow_compute", {"seconds": 60}), "tools/call")
    for _ in range(2):
        ack = modern_result(await task_request(http, "tasks/cancel", created["taskId"]), "tasks/cancel")
        assert set(ack) == {"resultType", "_meta"}
    task = modern_result(await task_request(http, "tasks/get", created["taskId"]), "tasks/get")
    assert task["status"] == "cancelled"


async def test_input_gathered_before_the_task_reaches_its_result(http):
    first = modern_result(await call(http, "test_tool_with_task"), "tools/call")
    assert first["resultType"] == "input_required" and "taskId" not in first
    retry = {"inputResponses": {"user_name": {"action": "accept", "content": {"name": "Ada"}}}}
    retry["requestState"] = first["requestState"]
    created = modern_result(await call(http, "test_tool_with_task", params=retry), "tools/call")
    assert created["resultType"] == "task" and "requestState" not in created
    done = await until(http, created["taskId"], "completed")
    assert done["result"]["content"][0]["text"] == "Hello, Ada, from a task"


async def test_unknown_and_foreign_tasks_are_invalid_params(http, jwt_mode):
    alice = {"Authorization": f"Bearer {hs_token(sub='alice')}"}
    bob = {"Authorization": f"Bearer {hs_token(sub='bob')}"}
    created = modern_result(await call(http, "slow_compute", {"seconds": 60}, headers=alice), "tools/call")
    params = {"taskId": created["taskId"]}
    modern_error(await modern_post(http, "tasks/get", params, meta=WITH_TASKS, headers=bob), 200, -32602)
    modern_error(
        await modern_post(http, "tasks/get", {"taskId": "nope"}, meta=WITH_TASKS, headers=alice), 200, -32602
    )
    modern_result(
        await modern_post(http, "tasks/cancel", params, meta=WITH_TASKS, headers=alice), "tasks/cancel"
    )
