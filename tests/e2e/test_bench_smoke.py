"""The benchmark keeps working: a smoke run (``python -m bench --smoke``) against this project.

No figure is asserted (performance is never asserted by tests): the run must finish, measure
every scenario without an error, and write a table and a chart. It installs wrk itself (as
root, from Debian) when the machine lacks it, as a fresh CI machine does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SMOKE_TIMEOUT = 600


def test_smoke_run_measures_every_scenario_and_writes_table_and_chart(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]

    outcome = json.loads((tmp_path / "results.json").read_text())
    assert set(outcome["results"]) == {"ours-memory", "ours-redis"}
    for key, by_scenario in outcome["results"].items():
        assert {"S1", "S2", "S3", "S4", "S5", "S6"} <= set(by_scenario), key
        for scenario, runs in by_scenario.items():
            assert runs and all("error" not in run for run in runs), (key, scenario, runs)
        # Good answers only: every request of the load runs got a JSON-RPC result.
        for scenario in ("S1", "S2"):
            run = by_scenario[scenario][0]
            assert run["rps"] > 0 and run["non2xx"] == 0 and run["bad"] == 0, (key, scenario, run)
            assert run["cpu_us"] > 0, (key, scenario, run)  # the server's CPU per answer
        assert by_scenario["S3"][0]["sessions_s"] > 0 and by_scenario["S3"][0]["failed"] == 0
        assert by_scenario["S3"][0]["cpu_us"] > 0
        assert by_scenario["S5"][0]["missed"] == 0
        assert by_scenario["S4"][0]["kib_per_session"] is not None

    table = (tmp_path / "results.md").read_text()
    for label in ("| this project, memory | ", "| this project, Redis | "):
        row = next(line for line in table.splitlines() if line.startswith(label))
        assert row.split("|")[2].strip().replace(",", "").isdigit(), row
    chart = ET.parse(tmp_path / "chart.svg").getroot()
    assert chart.tag.endswith("svg") and len(list(chart.iter("{http://www.w3.org/2000/svg}rect"))) > 2
