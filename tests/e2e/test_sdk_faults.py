"""The official Python SDK (mcp 1.30, out of process) facing injected faults.

Each scenario of tests/e2e/clients/python/faults.py sets its profile with the MCP-Faults
header on initialize, as a client author's test harness would, and reports what the SDK did.
What the SDK 1.30 client handles, as these tests pin it down:

- a dropped resumable stream: handled. It reconnects by itself with GET and Last-Event-ID and
  the call returns its result.
- a 404 after the session expired: reported, not handled. The call fails with "Session
  terminated"; the SDK does not initialize again by itself; the application must open a new
  session (which then works).
- a 503 with Retry-After: not handled. The SDK neither retries nor reads Retry-After; the
  failed call raises (httpx.HTTPStatusError inside the transport's task group), which ends
  the transport, so the application must reconnect (which then works).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from mcp.faults.draws import draw
from mcp.faults.profile import normalize
from tests.e2e.deps import clean_env
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).parent / "clients" / "python" / "faults.py"
CLIENT_TIMEOUT = 90.0


def run(python: Path, server: LiveServer, scenario: str, profile: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), "-I", str(SCRIPT), scenario, server.mcp_url, orjson.dumps(profile).decode()],
        cwd=SCRIPT.parent,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}\n{server.log()}"
    outcome = json.loads(lines[-1])
    assert outcome["ok"], f"{outcome}\n{done.stderr[-3000:]}"
    return outcome


def describe(outcome: dict[str, Any]) -> str:
    return json.dumps(outcome, indent=1)[:6000]


def test_the_sdk_resumes_a_dropped_stream_by_itself(python_sdk: Path, echo_server: LiveServer):
    profile = {"seed": 1, "dropStream": {"afterEvents": 1, "streams": "post"}}
    outcome = run(python_sdk, echo_server, "resume", profile)
    call = outcome["first"]["call"]
    assert call == {"texts": ["3 notifications sent on this request's stream"], "isError": False}, describe(
        outcome
    )
    resumed = [x for x in outcome["exchanges"] if x["http"] == "GET" and x["lastEventId"]]
    assert resumed and resumed[0]["status"] == 200, describe(outcome)


def test_the_sdk_reports_a_404_after_expiry_and_a_new_session_works(
    python_sdk: Path, echo_server: LiveServer
):
    outcome = run(python_sdk, echo_server, "expire", {"seed": 1, "expire": {"after": 1}})
    first, second = outcome["first"], outcome["second"]
    assert "Session terminated" in first["call"]["error"], describe(outcome)
    refused = [x for x in outcome["exchanges"] if x["rpc"] == "tools/call" and x["status"] == 404]
    assert len(refused) == 1, describe(outcome)  # no retry, no re-initialize by the SDK
    assert [x["rpc"] for x in outcome["exchanges"] if x["rpc"] == "initialize"] == ["initialize"] * 2
    assert second["call"] == {"texts": [second["call"]["texts"][0]], "isError": False}
    assert second["sessionId"] != first["sessionId"]
    assert second["call"]["texts"][0].endswith("after a new initialize")


def failing_second_request_seed() -> int:
    """A seed whose draw 1 (notifications/initialized) passes, 2 fails with 503, 3 passes."""
    for seed in range(1000):
        profile = normalize({"seed": seed, "httpError": {"rate": 0.5, "retryAfter": 1}}, max_bytes=1)
        statuses = [draw(profile, n).http_status for n in (1, 2, 3)]
        if statuses == [None, 503, None]:
            return seed
    raise AssertionError("no seed found")


def test_the_sdk_neither_retries_nor_honours_retry_after_on_503(python_sdk: Path, echo_server: LiveServer):
    seed = failing_second_request_seed()
    profile = {"seed": seed, "httpError": {"rate": 0.5, "retryAfter": 1}}
    outcome = run(python_sdk, echo_server, "unavailable", profile)
    calls = [x for x in outcome["exchanges"] if x["rpc"] == "tools/call"]
    assert calls[0]["status"] == 503 and calls[0]["retryAfter"] == "1", describe(outcome)
    first = outcome["first"]
    # The 503 ends the SDK's transport: the call is cancelled, and so is any later call on it.
    assert "HTTPStatusError" in first["raised"] and "503" in first["raised"], describe(outcome)
    assert "Cancel" in first["call"]["error"] and "Cancel" in first["retry"]["error"], describe(outcome)
    # The SDK did not retry the call after Retry-After on its own.
    assert [x["status"] for x in calls].count(503) == 1, describe(outcome)
    assert outcome["second"]["call"]["isError"] is False, describe(outcome)
