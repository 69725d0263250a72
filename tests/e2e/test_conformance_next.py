"""The official conformance suite's 0.2.0 pre-release (2026-07-28 scenarios) against the live server.

Three runs against one server that serves both eras on one /mcp:

- ``--requirements 2026-07-28``: the frozen set for the stateless revision, run at its wire
  (scored, extension and pending scenarios alike);
- ``--requirements 2025-11-25``: the session era's set, which must stay all passed;
- ``--suite all``: every scenario the suite has.

A scenario passes when none of its checks is FAILURE. Each run may name scenarios allowed to
fail (none today); a listed scenario that passes fails the test too, so a list cannot go stale.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_conformance import run_suite

pytestmark = pytest.mark.e2e

# The draft skills scenarios (SEP-2640, io.modelcontextprotocol/skills) that --suite all runs:
# every one of their checks must pass, none skipped (they skip when the extension is undeclared).
SKILLS_SCENARIOS = {"sep-2640-skills-enumeration", "sep-2640-skills-manifest", "sep-2640-skills-directory"}
RUNS = {
    "2026-07-28": (["--requirements", "2026-07-28"], 50, set()),
    "2025-11-25": (["--requirements", "2025-11-25"], 33, set()),
    "all": (["--suite", "all"], 65, set()),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_conformance_next(
    name: str, server_factory, conformance_next_suite: tuple[Path, Path], tmp_path: Path
) -> None:
    args, minimum, known_failures = RUNS[name]
    node, cli = conformance_next_suite
    run = run_suite(node, cli, server_factory(), args, tmp_path)
    failed = {scenario.name: scenario for scenario in run.report()}
    unexpected = {name: scenario for name, scenario in failed.items() if name not in known_failures}
    assert not unexpected, "unexpected conformance failures:\n" + "\n".join(
        f"  {scenario.name}: {scenario.first_failure()}" for scenario in unexpected.values()
    )
    ran = {scenario.name for scenario in run.scenarios}
    stale = (known_failures & ran) - set(failed)
    assert not stale, f"listed as known failures but passed (remove them from the list): {sorted(stale)}"
    assert len(run.scenarios) >= minimum, f"only {len(run.scenarios)} scenarios ran:\n{run.output[-4000:]}"
    if name == "all":
        skills = {scenario.name: scenario for scenario in run.scenarios if scenario.name in SKILLS_SCENARIOS}
        assert set(skills) == SKILLS_SCENARIOS
        not_passed = [
            (scenario.name, check.get("id"), check.get("status"), check.get("errorMessage"))
            for scenario in skills.values()
            for check in scenario.checks
            if check.get("status") != "SUCCESS"
        ]
        assert not not_passed, not_passed
        assert sum(len(scenario.checks) for scenario in skills.values()) >= 45
