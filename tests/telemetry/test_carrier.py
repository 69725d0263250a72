"""The verdict on a client's trace context: present where, well formed or not, and why."""

from __future__ import annotations

import pytest

from mcp.telemetry import carrier

GOOD = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
OTHER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def test_a_well_formed_traceparent():
    parsed = carrier.parse_traceparent(GOOD)
    assert parsed.problem is None
    assert parsed.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert parsed.parent_id == "00f067aa0ba902b7"
    assert parsed.sampled is True
    assert carrier.parse_traceparent(OTHER).sampled is False


def test_a_future_version_may_carry_more_fields():
    assert carrier.parse_traceparent(GOOD.replace("00-", "01-", 1) + "-whatever").problem is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (GOOD.upper(), "lower-case"),
        (" " + GOOD, "whitespace"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "version-traceid-parentid-flags"),
        (GOOD.replace("00-", "ff-", 1), "version ff"),
        (GOOD + "-extra", "exactly four fields"),
        ("00-" + "0" * 32 + "-00f067aa0ba902b7-01", "trace id is all zeros"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01", "parent id is all zeros"),
        (42, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_malformed_traceparents_say_why(value, problem):
    parsed = carrier.parse_traceparent(value)
    assert parsed.trace_id is None
    assert problem in parsed.problem


def test_nothing_carried():
    verdict = carrier.inspect({"progressToken": 1}, {"accept": "application/json"})
    assert verdict.where == "none"
    assert verdict.well_formed is None
    assert verdict.as_dict()["carried"] == "none"


def test_meta_only():
    verdict = carrier.inspect({"traceparent": GOOD, "tracestate": "a=b"}, {})
    assert (verdict.where, verdict.source, verdict.well_formed) == ("_meta", "_meta", True)
    assert verdict.as_dict()["client_trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert verdict.meta_keys == ("traceparent", "tracestate")


def test_http_only_is_used_but_noted():
    verdict = carrier.inspect({}, {"traceparent": GOOD})
    assert (verdict.where, verdict.source, verdict.well_formed) == ("http", "http", True)
    assert any("params._meta" in note for note in verdict.notes)


def test_meta_wins_over_http_and_a_different_trace_is_noted():
    verdict = carrier.inspect({"traceparent": GOOD}, {"traceparent": OTHER})
    assert (verdict.where, verdict.source) == ("both", "_meta")
    assert verdict.used.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert any("another trace" in note for note in verdict.notes)


def test_malformed_meta_is_reported_as_such():
    verdict = carrier.inspect({"traceparent": "not-a-traceparent"}, {})
    assert verdict.well_formed is False
    assert verdict.as_dict()["problem"]


def test_prefixed_keys_are_pointed_out():
    verdict = carrier.inspect({"io.opentelemetry/traceparent": GOOD}, {})
    assert verdict.where == "none"
    assert any("unprefixed" in note for note in verdict.notes)


def test_state_without_parent_is_ignored():
    verdict = carrier.inspect({"baggage": "k=v"}, {})
    assert verdict.where == "_meta"
    assert verdict.used is None
    assert any("without traceparent" in note for note in verdict.notes)


def test_any_meta_value_is_survived():
    assert carrier.inspect("nonsense", {}).where == "none"
    assert carrier.inspect({1: 2, "traceparent": {"x": 1}}, {}).well_formed is False
