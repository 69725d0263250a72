"""The compose stack's tracing is optional: Jaeger behind a profile, the replicas off by default."""

from __future__ import annotations

from pathlib import Path

import yaml

from mcp.telemetry import config

REPO = Path(__file__).resolve().parents[2]


def test_jaeger_is_optional_and_receives_otlp_http():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    jaeger = services["jaeger"]
    assert jaeger["profiles"] == ["tracing"]
    assert "receivers.otlp.protocols.http.endpoint=0.0.0.0:4318" in jaeger["command"]
    assert set(jaeger["networks"]) == set(services["mcp-echo"]["networks"])


def test_the_replicas_export_only_when_the_endpoint_is_given():
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    environment = services["mcp-echo"]["environment"]
    assert environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-}"
    # Unset on the host, compose passes an empty value: telemetry stays off.
    assert (
        config.read({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "", "OTEL_SERVICE_NAME": "mcp-echo"}) == config.OFF
    )
    on = config.read({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://jaeger:4318/v1/traces"})
    assert (on.traces, on.metrics) == (True, False)
