"""HAR exports checked against the HAR 1.2 JSON schema (npm har-schema through har-validator)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from haralyzer import HarParser

from tests.e2e.live import open_get
from tests.e2e.test_faults import drain, notifications_call, open_post, set_faults
from tests.traffic.test_har import export

pytestmark = pytest.mark.e2e


def validate(validator: Path, har: dict, tmp_path: Path) -> dict:
    path = tmp_path / "export.har"
    path.write_text(json.dumps(har))
    done = subprocess.run(
        ["node", str(validator), str(path)], capture_output=True, text=True, timeout=60, cwd=validator.parent
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_export_validates_against_the_har_1_2_schema(har_validator: Path, tmp_path: Path):
    assert validate(har_validator, export(), tmp_path) == {"ok": True, "errors": []}


def test_the_validator_can_fail(har_validator: Path, tmp_path: Path):
    broken = export()
    del broken["log"]["entries"][0]["response"]["status"]
    outcome = validate(har_validator, broken, tmp_path)
    assert outcome["ok"] is False and outcome["errors"]


async def export_of(client, fmt: str) -> str:
    result = await client.call_tool("exportTraffic", {"format": fmt})
    return result["content"][0]["resource"]["text"]


async def test_a_live_sessions_har_validates_and_reads_back_one_entry_per_exchange(
    session, har_validator: Path, tmp_path: Path
):
    """Real exchanges, stream faults included, as recorded by the live server."""
    made = [("POST", "initialize", 200), ("POST", "notifications/initialized", 202)]
    await set_faults(
        session, seed=1, dropStream={"afterEvents": 1, "streams": "post"}, duplicateEvent={"event": 1}
    )
    made.append(("POST", "tools/call", 200))
    async with open_post(session, notifications_call(session, 3)) as (_, stream):
        items = await drain(stream)
    made.append(("POST", "tools/call", 200))
    last_id = [item.id for item in items if item.message is not None][-1]
    async with open_get(session, **{"Last-Event-ID": last_id}) as (_, rest):
        await drain(rest)
    made.append(("GET", None, 200))
    assert (await session.request("ping", {})).status_code == 200
    made.append(("POST", "ping", 200))

    har = json.loads(await export_of(session, "har"))
    entries = har["log"]["entries"]
    assert [(e["request"]["method"], e["_mcp"]["method"], e["response"]["status"]) for e in entries] == made
    marks = [e["_mcp"]["marks"] for e in entries]
    assert marks[3] == ["duplicate_event", "drop_stream"]
    assert validate(har_validator, har, tmp_path) == {"ok": True, "errors": []}
    parsed = HarParser(har)
    assert len(parsed.pages[0].entries) == len(made)
    assert [entry.status for entry in parsed.pages[0].entries] == [status for _, _, status in made]
