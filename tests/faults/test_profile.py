"""Fault profiles: one schema wherever they come from, defaults filled in, deterministic draws."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from echoserver.env import env_parsed
from mcp.faults.draws import draw, sequence, summary
from mcp.faults.profile import ProfileError, is_empty, normalize, parse

LIMIT = 4 * 1024 * 1024
MIXED = {
    "seed": 42,
    "latency": {"minMs": 10, "maxMs": 90, "rate": 0.5},
    "httpError": {"rate": 0.3, "status": 503, "retryAfter": 2},
    "toolError": {"rate": 0.3, "as": "jsonrpc"},
    "dropStream": {"afterEvents": 2, "rate": 0.5},
    "duplicateEvent": {"event": 1, "rate": 0.2},
}


def test_defaults_are_filled_in_and_the_seed_kept():
    profile = normalize({"seed": 7, "httpError": {"rate": 1}, "unauthorized": {}}, max_bytes=LIMIT)
    assert profile == {
        "seed": 7,
        "httpError": {"rate": 1, "status": 503, "retryAfter": 1},
        "unauthorized": {"after": 0},
    }


def test_a_profile_without_a_seed_gets_one_to_reproduce_it_with():
    profile = normalize({"expire": {}}, max_bytes=LIMIT)
    assert isinstance(profile["seed"], int)
    assert not is_empty(profile)
    assert is_empty(normalize({"seed": 3}, max_bytes=LIMIT))


@pytest.mark.parametrize(
    "raw, where",
    [
        ({"httpError": {"rate": 2}}, "httpError/rate"),
        ({"httpError": {"rate": 0.5, "status": 404}}, "httpError/status"),
        ({"toolError": {}}, "rate"),
        ({"bogus": {}}, "bogus"),
        ({"latency": {"ms": 5, "minMs": 1, "maxMs": 2}}, "either ms"),
        ({"latency": {"minMs": 5}}, "both minMs and maxMs"),
        ({"latency": {"minMs": 5, "maxMs": 1}}, "minMs is above maxMs"),
        ({"latency": {"ms": 120_000}}, "latency/ms"),
        ({"oversized": {"bytes": LIMIT + 1}}, "at most"),
        ({"keepAlive": {"mode": "sometimes"}}, "keepAlive/mode"),
        ([], "object"),
    ],
)
def test_an_invalid_profile_says_where_and_why(raw, where):
    with pytest.raises(ProfileError, match=where):
        normalize(raw, max_bytes=LIMIT)


@pytest.mark.parametrize("text", ["not json", "[1]", '{"seed": "x"}', "{" * 5000])
def test_parse_refuses_what_is_not_a_profile(text):
    with pytest.raises(ProfileError):
        parse(text, max_bytes=LIMIT)


def test_the_same_seed_gives_the_same_faults_in_the_same_order():
    profile = normalize(MIXED, max_bytes=LIMIT)
    first = [summary(found) for found in sequence(profile, 200)]
    assert first == [summary(found) for found in sequence(normalize(MIXED, max_bytes=LIMIT), 200)]
    assert [draw(profile, n).latency_ms for n in range(1, 50)] == [
        draw(profile, n).latency_ms for n in range(1, 50)
    ]
    other = [summary(found) for found in sequence({**profile, "seed": 43}, 200)]
    assert first != other
    # Rates hold roughly, and the kinds are the documented ones.
    assert 30 <= sum("http_503" in kinds for kinds in first) <= 90
    assert {kind for kinds in first for kind in kinds} <= {
        "latency",
        "http_503",
        "rpc_error",
        "drop_stream",
        "duplicate_event",
    }


def test_draws_are_the_same_in_another_process():
    """Seeded from a string: no dependence on PYTHONHASHSEED or the process."""
    code = (
        "from mcp.faults.draws import sequence, summary;"
        f"print([summary(d) for d in sequence({normalize(MIXED, max_bytes=LIMIT)!r}, 50)])"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
    assert runs.pop().strip() == str(
        [summary(found) for found in sequence(normalize(MIXED, max_bytes=LIMIT), 50)]
    )


def test_one_shot_faults_fire_once_after_the_given_number_of_exchanges():
    profile = normalize(
        {"seed": 1, "unauthorized": {"after": 2}, "expire": {"after": 4}, "listChangedBurst": {"count": 5}},
        max_bytes=LIMIT,
    )
    kinds = [summary(found) for found in sequence(profile, 8)]
    assert kinds == [["list_changed_burst"], [], ["unauthorized"], [], ["expire"], [], [], []]
    assert draw(profile, 1).burst == (5, "tools")


def test_latency_ranges_stay_within_bounds():
    profile = normalize({"seed": 9, "latency": {"minMs": 20, "maxMs": 40}}, max_bytes=LIMIT)
    values = {draw(profile, n).latency_ms for n in range(1, 100)}
    assert min(values) >= 20 and max(values) <= 40 and len(values) > 5


def test_env_parsed_names_the_variable(monkeypatch):
    monkeypatch.setenv("MCP_FAULTS", '{"httpError": {"rate": 3}}')
    with pytest.raises(ImproperlyConfigured, match=r"^MCP_FAULTS is invalid: httpError/rate"):
        env_parsed("MCP_FAULTS", None, lambda text: parse(text, max_bytes=LIMIT))
    monkeypatch.setenv("MCP_FAULTS", " ")
    assert env_parsed("MCP_FAULTS", None, lambda text: parse(text, max_bytes=LIMIT)) is None


def test_a_malformed_mcp_faults_stops_start_up_with_one_line():
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        capture_output=True,
        text=True,
        env={
            "DJANGO_SETTINGS_MODULE": "echoserver.settings",
            "MCP_FAULTS": '{"latency": "slow"}',
            "PATH": "/usr/bin:/bin",
        },
    )
    assert done.returncode != 0
    assert "MCP_FAULTS is invalid: latency: 'slow' is not of type 'object'" in done.stderr
