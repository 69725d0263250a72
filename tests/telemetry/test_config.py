"""Telemetry is configured by the standard OTEL_* variables alone, and a bad one stops start-up."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from mcp.telemetry import config

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}


def test_off_when_no_endpoint_is_configured():
    assert config.read({}) == config.OFF
    assert not config.read({"OTEL_SERVICE_NAME": "echo", "OTEL_TRACES_SAMPLER": "always_on"}).on


def test_one_endpoint_turns_on_traces_and_metrics():
    assert config.read(ENDPOINT) == config.Config(traces=True, metrics=True)


def test_a_signal_endpoint_turns_on_that_signal_only():
    assert config.read(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector/v1/traces"}
    ) == config.Config(traces=True, metrics=False)
    assert config.read({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://c:4318/v1/metrics"}) == config.Config(
        traces=False, metrics=True
    )


def test_exporter_none_turns_a_signal_off():
    assert config.read({**ENDPOINT, "OTEL_METRICS_EXPORTER": "none"}) == config.Config(
        traces=True, metrics=False
    )
    assert not config.read({**ENDPOINT, "OTEL_METRICS_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "none"}).on


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_sdk_disabled_wins_over_an_endpoint(value):
    assert config.read({**ENDPOINT, "OTEL_SDK_DISABLED": value}) == config.OFF


def test_sdk_disabled_false_leaves_it_on():
    assert config.read({**ENDPOINT, "OTEL_SDK_DISABLED": "false"}).on


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:99999"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ("OTEL_TRACES_EXPORTER", "jaeger"),
        ("OTEL_METRICS_EXPORTER", "prometheus"),
        ("OTEL_TRACES_SAMPLER", "always_sometimes"),
        ("OTEL_SDK_DISABLED", "maybe"),
    ],
)
def test_a_bad_value_stops_naming_the_variable(name, value):
    with pytest.raises(ImproperlyConfigured) as caught:
        config.read({**ENDPOINT, name: value})
    message = str(caught.value)
    assert message.startswith(name)
    assert "\n" not in message


@pytest.mark.parametrize("ratio", ["2", "-0.1", "half"])
def test_a_ratio_outside_zero_to_one_stops(ratio):
    environ = {
        **ENDPOINT,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": ratio,
    }
    with pytest.raises(ImproperlyConfigured, match=r"^OTEL_TRACES_SAMPLER_ARG"):
        config.read(environ)


def test_a_bad_value_stops_even_when_off():
    with pytest.raises(ImproperlyConfigured, match=r"^OTEL_EXPORTER_OTLP_PROTOCOL"):
        config.read({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


def test_good_values_pass():
    environ = {
        **ENDPOINT,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
        "OTEL_TRACES_EXPORTER": "otlp",
    }
    assert config.read(environ).on
