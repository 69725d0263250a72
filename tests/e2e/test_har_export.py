"""HAR exports checked against the HAR 1.2 JSON schema (npm har-schema through har-validator)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.faults.test_har import export

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
