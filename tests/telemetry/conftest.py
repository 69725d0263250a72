from __future__ import annotations

import pytest

from mcp import telemetry
from tests.support.otlp_receiver import OtlpReceiver


@pytest.fixture
def receiver(monkeypatch):
    """A real OTLP/HTTP receiver, and this process's telemetry exporting to it."""
    with OtlpReceiver() as running:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", running.endpoint)
        assert telemetry.configure()
        yield running
        telemetry.shutdown()
    assert not running.rejected
