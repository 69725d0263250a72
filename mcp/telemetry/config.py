"""Whether OpenTelemetry is on, from the standard OTEL_* variables only (no SDK import).

Off unless an OTLP endpoint is configured (``OTEL_EXPORTER_OTLP_ENDPOINT``, or the per-signal
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``), and off
whatever else is set when ``OTEL_SDK_DISABLED`` is true. Each signal can be turned off with
``OTEL_TRACES_EXPORTER=none`` / ``OTEL_METRICS_EXPORTER=none``.

The SDK reads the rest itself (service name, resource attributes, headers, timeouts,
compression, export interval). What it would silently replace by a default is checked here
instead, and a bad value stops start-up with ``ImproperlyConfigured`` naming the variable:
an endpoint that is not an http(s) URL, a protocol other than ``http/protobuf`` (the only
exporter installed), an exporter other than ``otlp``/``none``, an unknown sampler or a
sampler argument outside [0, 1].
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
SIGNAL_ENDPOINTS = {
    "traces": "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
}
EXPORTERS = {"traces": "OTEL_TRACES_EXPORTER", "metrics": "OTEL_METRICS_EXPORTER"}
PROTOCOLS = (
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
)
SAMPLERS = frozenset(
    {
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
    }
)
RATIO_SAMPLERS = frozenset({"traceidratio", "parentbased_traceidratio"})
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})

# Every variable this module reads or the SDK reads for us: the README's configuration table.
DOCUMENTED = (
    "OTEL_SDK_DISABLED",
    ENDPOINT,
    *SIGNAL_ENDPOINTS.values(),
    *PROTOCOLS,
    *EXPORTERS.values(),
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_PROPAGATORS",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_METRIC_EXPORT_INTERVAL",
)


@dataclass(frozen=True, slots=True)
class Config:
    """Which signals to export (both over OTLP/HTTP protobuf)."""

    traces: bool
    metrics: bool

    @property
    def on(self) -> bool:
        return self.traces or self.metrics


OFF = Config(traces=False, metrics=False)


def _value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value is not None and value.strip() else None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = _value(environ, name)
    if value is None:
        return False
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def _endpoint(environ: Mapping[str, str], name: str) -> str | None:
    value = _value(environ, name)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name} must be an http(s) URL such as http://collector:4318, not {value!r}"
        )
    return value


def _exporter(environ: Mapping[str, str], signal: str) -> bool:
    name = EXPORTERS[signal]
    value = _value(environ, name)
    if value is None or value.lower() == "otlp":
        return True
    if value.lower() == "none":
        return False
    raise ImproperlyConfigured(
        f"{name} must be otlp or none (the only exporter installed is OTLP), not {value!r}"
    )


def _check_protocols(environ: Mapping[str, str]) -> None:
    for name in PROTOCOLS:
        value = _value(environ, name)
        if value is not None and value != "http/protobuf":
            raise ImproperlyConfigured(
                f"{name} must be http/protobuf (this server exports OTLP over HTTP), not {value!r}"
            )


def _check_sampler(environ: Mapping[str, str]) -> None:
    sampler = _value(environ, "OTEL_TRACES_SAMPLER")
    if sampler is not None and sampler.lower() not in SAMPLERS:
        raise ImproperlyConfigured(
            f"OTEL_TRACES_SAMPLER must be one of {', '.join(sorted(SAMPLERS))}, not {sampler!r}"
        )
    argument = _value(environ, "OTEL_TRACES_SAMPLER_ARG")
    if argument is None or sampler is None or sampler.lower() not in RATIO_SAMPLERS:
        return
    try:
        ratio = float(argument)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ImproperlyConfigured(f"OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not {argument!r}")


def read(environ: Mapping[str, str] | None = None) -> Config:
    """The configuration in ``environ`` (the process's by default); ``OFF`` when nothing asks
    for telemetry. Raises ImproperlyConfigured for a bad value, whether on or off."""
    environ = os.environ if environ is None else environ
    disabled = _flag(environ, "OTEL_SDK_DISABLED")
    common = _endpoint(environ, ENDPOINT)
    signals = {signal: _endpoint(environ, name) or common for signal, name in SIGNAL_ENDPOINTS.items()}
    wanted = {signal: _exporter(environ, signal) for signal in EXPORTERS}
    _check_protocols(environ)
    _check_sampler(environ)
    if disabled:
        return OFF
    return Config(
        traces=bool(signals["traces"]) and wanted["traces"],
        metrics=bool(signals["metrics"]) and wanted["metrics"],
    )
