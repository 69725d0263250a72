"""The calculator toolset (seed 2) without the seed's defects: atomic history, the client's
progress token, tool errors instead of JSON-RPC errors, bounded inputs, real templates and
no access to another session's data."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from jsonschema import Draft202012Validator

from mcp.store import get_store
from mcp.tools.calculator.arithmetic import js_number
from mcp.tools.calculator.toolset import HISTORY, HISTORY_LIMIT, sample_tool
from tests.support.client import McpClient, messages_of

JSON_RPC_INVALID_PARAMS = -32602
RESOURCE_NOT_FOUND = -32002


async def tool_definitions(session: McpClient) -> dict[str, dict]:
    return {tool["name"]: tool for tool in (await session.rpc("tools/list"))["result"]["tools"]}


async def call_checked(session: McpClient, name: str, arguments: dict) -> dict:
    """Call a tool and check its structuredContent against its outputSchema."""
    result = await session.call_tool(name, arguments)
    if not result.get("isError"):
        schema = (await tool_definitions(session))[name]["outputSchema"]
        errors = list(Draft202012Validator(schema).iter_errors(result["structuredContent"]))
        assert not errors, errors
    return result


async def read(session: McpClient, uri: str) -> dict:
    return await session.rpc("resources/read", {"uri": uri})


async def read_json(session: McpClient, uri: str) -> dict:
    response = await read(session, uri)
    assert "result" in response, response
    (content,) = response["result"]["contents"]
    assert content["uri"] == uri
    assert content["mimeType"] == "application/json"
    return json.loads(content["text"])


def progress_of(response) -> list[dict]:
    return [m["params"] for m in messages_of(response) if m.get("method") == "notifications/progress"]


def final_result(response) -> dict:
    return [m for m in messages_of(response) if "result" in m or "error" in m][-1]


@pytest.fixture
async def other(http) -> McpClient:
    client = McpClient(http)
    await client.initialize(client_name="other")
    return client


class TestListing:
    async def test_tools_have_titles_annotations_and_output_schemas(self, session):
        tools = await tool_definitions(session)
        for name in ("calculate", "batch_calculate", "advanced_calculate", "demo_progress"):
            assert tools[name]["title"]
            assert tools[name]["annotations"]["openWorldHint"] is False
            Draft202012Validator.check_schema(tools[name]["inputSchema"])
        for name in ("calculate", "batch_calculate", "advanced_calculate"):
            Draft202012Validator.check_schema(tools[name]["outputSchema"])
            assert tools[name]["annotations"]["readOnlyHint"] is False
        assert tools["demo_progress"]["execution"] == {"taskSupport": "optional"}
        assert tools["batch_calculate"]["inputSchema"]["properties"]["calculations"]["maxItems"] == 100

    async def test_resources_templates_and_prompts_are_listed(self, session):
        resources = {r["uri"]: r for r in (await session.rpc("resources/list"))["result"]["resources"]}
        for uri in ("calculator://constants", "calculator://stats", "formulas://library"):
            assert resources[uri]["mimeType"] == "application/json"
        templates = (await session.rpc("resources/templates/list"))["result"]["resourceTemplates"]
        uris = {template["uriTemplate"] for template in templates}
        assert {"calculator://history/{calculationId}", "session://info/{sessionId}"} <= uris
        prompts = {p["name"]: p for p in (await session.rpc("prompts/list"))["result"]["prompts"]}
        assert {
            "explain-calculation",
            "generate-problems",
            "solve_math_problem",
            "explain_formula",
            "calculator_assistant",
        } <= set(prompts)
        arguments = {a["name"]: a["required"] for a in prompts["explain-calculation"]["arguments"]}
        assert arguments == {"operation": True, "level": False}


class TestCalculate:
    @pytest.mark.parametrize(
        ("a", "op", "b", "shown"),
        [
            (2, "add", 3, "2 add 3 = 5"),
            (10, "subtract", 4.5, "10 subtract 4.5 = 5.5"),
            (6, "multiply", 7, "6 multiply 7 = 42"),
            (1, "divide", 4, "1 divide 4 = 0.25"),
            (0.1, "add", 0.2, "0.1 add 0.2 = 0.30000000000000004"),
        ],
    )
    async def test_text_and_structured_content_agree(self, session, a, op, b, shown):
        result = await call_checked(session, "calculate", {"a": a, "b": b, "op": op})
        assert result["content"] == [{"type": "text", "text": shown}]
        structured = result["structuredContent"]
        assert (structured["a"], structured["op"], structured["b"]) == (a, op, b)
        assert shown.endswith(f"= {js_number(structured['result'])}")

    async def test_divide_by_zero_is_a_tool_error_and_is_not_stored(self, session):
        response = await session.rpc(
            "tools/call", {"name": "calculate", "arguments": {"a": 1, "b": 0, "op": "divide"}}
        )
        result = response["result"]
        assert result["isError"] is True
        assert "Division by zero" in result["content"][0]["text"]
        assert await get_store().items(session.session_id, HISTORY) == []

    async def test_overflow_is_refused_not_infinity(self, session):
        result = await session.call_tool("calculate", {"a": 1e308, "b": 10, "op": "multiply"})
        assert result["isError"] is True
        assert "finite" in result["content"][0]["text"]

    async def test_bad_arguments_are_tool_errors(self, session):
        result = await session.call_tool("calculate", {"a": 1, "b": 2, "op": "modulo"})
        assert result["isError"] is True
        result = await session.call_tool("calculate", {"a": "1", "b": 2, "op": "add"})
        assert result["isError"] is True

    async def test_the_history_template_reads_a_real_calculation(self, session):
        result = await session.call_tool("calculate", {"a": 2, "b": 3, "op": "multiply"})
        calculation_id = result["structuredContent"]["id"]
        record = await read_json(session, f"calculator://history/{calculation_id}")
        assert record["id"] == calculation_id
        assert record["sessionId"] == session.session_id
        assert record["operation"] == "multiply"
        assert record["inputs"] == [2, 3]
        assert record["result"] == 6
        assert abs(record["timestamp"] - time.time() * 1000) < 60_000

    async def test_an_unknown_calculation_is_resource_not_found(self, session):
        response = await read(session, "calculator://history/no-such-id")
        assert response["error"]["code"] == RESOURCE_NOT_FOUND
        assert "no-such-id" in response["error"]["message"]


class TestConcurrentHistory:
    async def concurrent_calculations(self, session: McpClient, count: int) -> list[str]:
        results = await asyncio.gather(
            *(session.call_tool("calculate", {"a": n, "b": 1, "op": "add"}) for n in range(count))
        )
        assert not any(result.get("isError") for result in results)
        return [result["structuredContent"]["id"] for result in results]

    async def test_100_concurrent_calls_keep_exactly_the_newest_50(self, session, monkeypatch):
        store = get_store()
        appended: list[str] = []
        push = store.push

        async def recording_push(session_id, name, item, *, cap):
            if name != "traffic":  # each exchange is also recorded (mcp.traffic.record)
                appended.append(item["id"])
            return await push(session_id, name, item, cap=cap)

        monkeypatch.setattr(store, "push", recording_push)
        ids = await self.concurrent_calculations(session, 100)
        assert len(set(ids)) == 100
        assert sorted(appended) == sorted(ids)
        stored_ids = [record["id"] for record in await store.items(session.session_id, HISTORY)]
        assert len(stored_ids) == HISTORY_LIMIT == 50
        assert len(set(stored_ids)) == 50
        # The newest 50, in the order they were appended.
        assert stored_ids == appended[-50:]
        # Each kept id resolves through the template; each dropped one is gone.
        for calculation_id in stored_ids:
            assert (await read_json(session, f"calculator://history/{calculation_id}"))[
                "id"
            ] == calculation_id
        for calculation_id in appended[:50]:
            response = await read(session, f"calculator://history/{calculation_id}")
            assert response["error"]["code"] == RESOURCE_NOT_FOUND
        stats = await read_json(session, "calculator://stats")
        assert stats["totalCalculations"] == 50

    async def test_40_concurrent_calls_lose_nothing(self, session):
        ids = await self.concurrent_calculations(session, 40)
        stored = await get_store().items(session.session_id, HISTORY)
        assert sorted(record["id"] for record in stored) == sorted(ids)
        results = sorted(record["result"] for record in stored)
        assert results == list(range(1, 41))
        info = await read_json(session, f"session://info/{session.session_id}")
        assert info["calculationCount"] == 40


class TestBatch:
    async def test_batch_records_successes_and_reports_division_by_zero_per_line(self, session):
        calculations = [
            {"a": 1, "b": 2, "op": "add"},
            {"a": 1, "b": 0, "op": "divide"},
            {"a": 9, "b": 3, "op": "divide"},
        ]
        result = await call_checked(session, "batch_calculate", {"calculations": calculations})
        assert "isError" not in result
        assert result["content"][0]["text"] == (
            "Batch calculation completed. Results:\n1 add 2 = 3\nError: Division by zero\n9 divide 3 = 3"
        )
        structured = result["structuredContent"]
        assert (structured["succeeded"], structured["failed"]) == (2, 1)
        stored = await get_store().items(session.session_id, HISTORY)
        assert [record["result"] for record in stored] == [3, 3]

    async def test_more_than_100_items_are_refused_by_the_schema(self, session):
        calculations = [{"a": 1, "b": 1, "op": "add"}] * 101
        result = await session.call_tool("batch_calculate", {"calculations": calculations})
        assert result["isError"] is True
        assert "calculations" in result["content"][0]["text"]
        assert await get_store().items(session.session_id, HISTORY) == []

    async def test_exactly_100_items_are_accepted(self, session):
        calculations = [{"a": n, "b": 1, "op": "multiply"} for n in range(100)]
        result = await session.call_tool("batch_calculate", {"calculations": calculations})
        assert result["structuredContent"]["succeeded"] == 100
        assert len(await get_store().items(session.session_id, HISTORY)) == 50

    async def test_progress_uses_the_client_token(self, session):
        response = await session.request(
            "tools/call",
            {
                "name": "batch_calculate",
                "arguments": {"calculations": [{"a": 1, "b": 1, "op": "add"}] * 3, "reportProgress": True},
                "_meta": {"progressToken": 7},
            },
        )
        progress = progress_of(response)
        assert [(p["progressToken"], p["progress"], p["total"]) for p in progress] == [
            (7, 1, 3),
            (7, 2, 3),
            (7, 3, 3),
        ]
        assert progress[0]["message"] == "Processing calculation 1/3: 1 add 1"


class TestAdvanced:
    @pytest.mark.parametrize(
        ("arguments", "shown"),
        [
            ({"operation": "factorial", "value": 5}, "factorial(5) = 120"),
            ({"operation": "factorial", "value": 0}, "factorial(0) = 1"),
            ({"operation": "power", "value": 10, "base": 2}, "power(10, 2) = 1024"),
            ({"operation": "sqrt", "value": 16}, "sqrt(16) = 4"),
            ({"operation": "log", "value": 8, "base": 2}, "log(8, 2) = 3"),
            ({"operation": "sin", "value": 0}, "sin(0) = 0"),
            ({"operation": "cos", "value": 0}, "cos(0) = 1"),
        ],
    )
    async def test_operations(self, session, arguments, shown):
        result = await call_checked(session, "advanced_calculate", arguments)
        assert result["content"][0]["text"] == shown
        assert result["structuredContent"]["operation"] == arguments["operation"]

    async def test_factorial_170_is_the_largest(self, session):
        result = await call_checked(session, "advanced_calculate", {"operation": "factorial", "value": 170})
        assert result["structuredContent"]["result"] > 7e306

    @pytest.mark.parametrize("value", [171, 1e9, 1e300])
    async def test_large_factorials_are_refused_quickly(self, session, value):
        started = time.perf_counter()
        result = await session.call_tool("advanced_calculate", {"operation": "factorial", "value": value})
        assert time.perf_counter() - started < 1
        assert result["isError"] is True
        assert "0 to 170" in result["content"][0]["text"]
        assert await get_store().items(session.session_id, HISTORY) == []

    @pytest.mark.parametrize(
        ("arguments", "reason"),
        [
            ({"operation": "factorial", "value": -1}, "non-negative integer"),
            ({"operation": "factorial", "value": 2.5}, "non-negative integer"),
            ({"operation": "power", "value": 2}, "requires base"),
            ({"operation": "power", "value": 0.5, "base": -8}, "not defined"),
            ({"operation": "power", "value": -1, "base": 0}, "not defined"),
            ({"operation": "power", "value": 2000, "base": 10}, "overflows"),
            ({"operation": "sqrt", "value": -4}, "negative"),
            ({"operation": "log", "value": 0}, "positive"),
            ({"operation": "log", "value": 8, "base": 1}, "base"),
            ({"operation": "log", "value": 8, "base": -2}, "base"),
        ],
    )
    async def test_domain_errors_are_tool_errors(self, session, arguments, reason):
        response = await session.rpc("tools/call", {"name": "advanced_calculate", "arguments": arguments})
        result = response["result"]
        assert result["isError"] is True
        assert reason in result["content"][0]["text"]


class TestProgress:
    async def test_calculate_stream_reports_on_the_client_token(self, session):
        response = await session.request(
            "tools/call",
            {
                "name": "calculate",
                "arguments": {"a": 6, "b": 7, "op": "multiply", "stream": True},
                "_meta": {"progressToken": "tok-1"},
            },
        )
        progress = progress_of(response)
        assert [p["progressToken"] for p in progress] == ["tok-1"] * 3
        assert [p["progress"] for p in progress] == [0.2, 0.5, 1]
        assert all(p["total"] == 1 for p in progress)
        assert progress[-1]["message"] == "Calculation complete: 42"
        assert final_result(response)["result"]["content"][0]["text"] == "6 multiply 7 = 42"

    async def test_no_token_means_no_progress(self, session):
        response = await session.request(
            "tools/call", {"name": "calculate", "arguments": {"a": 1, "b": 1, "op": "add", "stream": True}}
        )
        assert progress_of(response) == []
        assert final_result(response)["result"]["content"][0]["text"] == "1 add 1 = 2"

    async def test_demo_progress_counts_steps_on_the_client_token(self, session):
        response = await session.request(
            "tools/call",
            {"name": "demo_progress", "arguments": {"steps": 2}, "_meta": {"progressToken": "tok-1"}},
        )
        progress = progress_of(response)
        assert [(p["progressToken"], p["progress"], p["total"]) for p in progress] == [
            ("tok-1", 0, 2),
            ("tok-1", 1, 2),
            ("tok-1", 2, 2),
        ]
        assert progress[1]["message"] == "Step 1/2 completed"
        text = final_result(response)["result"]["content"][0]["text"]
        assert text == "Progress demonstration completed with 2 steps"

    async def test_demo_progress_runs_as_a_task(self, session):
        response = await session.rpc(
            "tools/call", {"name": "demo_progress", "arguments": {"steps": 1}, "task": {"ttl": 60000}}
        )
        task_id = response["result"]["task"]["taskId"]
        result = (await session.rpc("tasks/result", {"taskId": task_id}))["result"]
        assert result["content"][0]["text"] == "Progress demonstration completed with 1 steps"

    @pytest.mark.parametrize("steps", [0, 101, 2.5])
    async def test_demo_progress_steps_are_bounded(self, session, steps):
        result = await session.call_tool("demo_progress", {"steps": steps})
        assert result["isError"] is True


class TestResources:
    async def test_constants_and_formulas(self, session):
        constants = await read_json(session, "calculator://constants")
        assert constants == {
            "pi": 3.141592653589793,
            "e": 2.718281828459045,
            "sqrt2": 1.4142135623730951,
            "ln2": 0.6931471805599453,
            "ln10": 2.302585092994046,
        }
        formulas = await read_json(session, "formulas://library")
        assert formulas["pythagorean"] == {"formula": "a² + b² = c²", "description": "For right triangles"}
        assert formulas["compound_interest"]["variables"]["P"] == "Principal"
        response = await read(session, "formulas://library")
        assert response["result"]["contents"][0]["text"].startswith('{\n  "quadratic"')

    async def test_stats_separate_session_from_server_numbers(self, session, other):
        await session.call_tool("calculate", {"a": 1, "b": 2, "op": "add"})
        await session.call_tool("calculate", {"a": 1, "b": 2, "op": "add"})
        await session.call_tool("advanced_calculate", {"operation": "sqrt", "value": 9})
        await other.call_tool("calculate", {"a": 5, "b": 5, "op": "multiply"})
        stats = await read_json(session, "calculator://stats")
        assert stats["totalCalculations"] == 3
        assert stats["operationBreakdown"] == [
            {"operation": "add", "count": 2},
            {"operation": "sqrt", "count": 1},
        ]
        assert stats["activeSessions"] == 2
        assert stats["scope"] == {
            "totalCalculations": "session",
            "operationBreakdown": "session",
            "activeSessions": "server",
        }

    async def test_session_info_describes_the_callers_session(self, session):
        await session.call_tool("calculate", {"a": 1, "b": 2, "op": "add"})
        info = await read_json(session, f"session://info/{session.session_id}")
        assert info["sessionId"] == session.session_id
        assert info["calculationCount"] == 1
        assert info["requestCount"] >= 2
        assert info["uptime"] >= 0
        assert info["startTime"].endswith("Z") and info["lastActivity"].endswith("Z")
        assert info["startTime"] <= info["lastActivity"]


class TestIsolation:
    async def test_another_session_cannot_read_this_sessions_history(self, session, other):
        result = await session.call_tool("calculate", {"a": 2, "b": 2, "op": "add"})
        uri = f"calculator://history/{result['structuredContent']['id']}"
        assert (await read_json(session, uri))["result"] == 4
        response = await read(other, uri)
        assert response["error"]["code"] == RESOURCE_NOT_FOUND
        assert "sessionId" not in json.dumps(response)
        completion = await other.rpc(
            "completion/complete",
            {
                "ref": {"type": "ref/resource", "uri": "calculator://history/{calculationId}"},
                "argument": {"name": "calculationId", "value": ""},
            },
        )
        assert completion["result"]["completion"]["values"] == []

    async def test_another_session_cannot_read_this_sessions_info(self, session, other):
        response = await read(other, f"session://info/{session.session_id}")
        assert response["error"]["code"] == RESOURCE_NOT_FOUND
        assert "result" not in response
        response = await read(session, "session://info/not-a-session")
        assert response["error"]["code"] == RESOURCE_NOT_FOUND


class TestPrompts:
    async def get(self, session: McpClient, name: str, arguments: dict) -> dict:
        return await session.rpc("prompts/get", {"name": name, "arguments": arguments})

    @pytest.mark.parametrize(
        ("name", "arguments", "expected"),
        [
            (
                "explain-calculation",
                {"operation": "divide"},
                "Please explain how to divide step by step at a basic level. "
                "Include examples and common mistakes to avoid.",
            ),
            (
                "explain-calculation",
                {"operation": "factorial", "level": "advanced"},
                "Please explain how to factorial step by step at a advanced level. "
                "Include examples and common mistakes to avoid.",
            ),
            (
                "generate-problems",
                {"topic": "fractions", "difficulty": "easy", "count": "3"},
                "Generate 3 easy-level practice problems for fractions. Include solutions and explanations.",
            ),
            (
                "solve_math_problem",
                {"problem": "2x = 4", "showWork": "true"},
                "Solve this problem: 2x = 4. Show all work and explain each step.",
            ),
            (
                "solve_math_problem",
                {"problem": "2x = 4"},
                "Solve this problem: 2x = 4. Provide the solution.",
            ),
            (
                "explain_formula",
                {"formula": "a² + b² = c²", "context": "geometry"},
                'Explain the formula "a² + b² = c²" in the context of geometry. '
                "Include what each variable represents and when to use this formula.",
            ),
            (
                "explain_formula",
                {"formula": "E = mc²"},
                'Explain the formula "E = mc²". '
                "Include what each variable represents and when to use this formula.",
            ),
            (
                "calculator_assistant",
                {"query": "15% of 80"},
                "I need help with this calculation: 15% of 80. Please provide step-by-step guidance.",
            ),
        ],
    )
    async def test_prompts_render_their_arguments(self, session, name, arguments, expected):
        response = await self.get(session, name, arguments)
        assert response["result"]["messages"] == [
            {"role": "user", "content": {"type": "text", "text": expected}}
        ]
        assert response["result"]["description"]

    @pytest.mark.parametrize(
        ("name", "arguments", "missing"),
        [
            ("explain-calculation", {"level": "basic"}, "operation"),
            ("generate-problems", {"topic": "algebra", "count": "2"}, "difficulty"),
            ("solve_math_problem", {}, "problem"),
            ("explain_formula", {"context": "x"}, "formula"),
            ("calculator_assistant", {}, "query"),
        ],
    )
    async def test_missing_required_arguments_are_invalid_params(self, session, name, arguments, missing):
        response = await self.get(session, name, arguments)
        assert response["error"]["code"] == JSON_RPC_INVALID_PARAMS
        assert missing in response["error"]["message"]


class TestCompletion:
    async def complete(self, session: McpClient, ref: dict, name: str, value: str) -> list[str]:
        response = await session.rpc(
            "completion/complete", {"ref": ref, "argument": {"name": name, "value": value}}
        )
        return response["result"]["completion"]["values"]

    async def test_prompt_operation_is_completed_by_prefix(self, session):
        ref = {"type": "ref/prompt", "name": "explain-calculation"}
        assert await self.complete(session, ref, "operation", "d") == ["divide"]
        assert await self.complete(session, ref, "operation", "S") == ["subtract", "sqrt", "sin"]
        assert len(await self.complete(session, ref, "operation", "")) == 11
        assert await self.complete(session, ref, "operation", "zzz") == []
        assert await self.complete(session, ref, "level", "a") == ["advanced"]

    async def test_calculation_ids_are_the_callers_filtered_by_prefix(self, session):
        ids = []
        for n in range(5):
            result = await session.call_tool("calculate", {"a": n, "b": 1, "op": "add"})
            ids.append(result["structuredContent"]["id"])
        ref = {"type": "ref/resource", "uri": "calculator://history/{calculationId}"}
        assert await self.complete(session, ref, "calculationId", "") == ids[::-1]
        prefix = ids[2][:6]
        expected = [i for i in ids[::-1] if i.startswith(prefix)]
        assert await self.complete(session, ref, "calculationId", prefix) == expected
        assert ids[2] in expected


class TestSampleTool:
    def test_a_valid_name_builds_the_seed_tool(self):
        tool = sample_tool("sample.tool-1_x")
        assert tool.definition["name"] == "sample.tool-1_x"
        assert tool.description == "Sample educational tool for learning MCP concepts"
        assert tool.input_schema["required"] == ["value"]
        assert tool.argument_error({}) is not None
        assert tool.argument_error({"value": "hi"}) is None

    async def test_it_prints_its_value(self):
        tool = sample_tool("sample")
        assert await tool.func(None, {"value": "hello"}) == "test string print: hello"

    @pytest.mark.parametrize("name", ["has space", "x" * 129, "slash/name", "émoji", "calculate"])
    def test_an_invalid_name_is_improperly_configured(self, name):
        with pytest.raises(ImproperlyConfigured, match="SAMPLE_TOOL_NAME"):
            sample_tool(name)
