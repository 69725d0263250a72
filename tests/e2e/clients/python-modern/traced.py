"""The Python SDK 2.x client with OpenTelemetry on: one trace across the client and the server.

Run in the SDK 2.x virtualenv: ``python traced.py URL MODE``. The SDK propagates the active
span's context in each request's ``params._meta`` (SEP-414) through ``opentelemetry-api``;
this script installs the OpenTelemetry SDK with an OTLP/HTTP exporter (endpoint from
OTEL_EXPORTER_OTLP_ENDPOINT, as the server's), opens one span around an echo call and a
sampling round trip, flushes, and prints one JSON object per step (the last names the trace
id and the span). Exits non-zero on failure.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
from client import report, run, text_of
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from mcp import Client


async def sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
    return types.CreateMessageResult(
        role="assistant", content=types.TextContent(type="text", text="traced"), model="echo-model"
    )


async def main(url: str, mode: str) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-client"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("traced-client")
    with tracer.start_as_current_span("agent turn") as span:
        context = span.get_span_context()
        async with Client(url, mode=mode, sampling_callback=sampling) as client:
            report("connected", version=client.session.protocol_version)
            echoed = await client.call_tool("echo", {"message": "traced hello"})
            report("echo", text=text_of(echoed))
            sampled = await client.call_tool("requestSampling", {"prompt": "Say something"})
            report("sampling", text=text_of(sampled), isError=bool(sampled.is_error))
    provider.force_flush()
    provider.shutdown()
    report(
        "done",
        trace_id=trace.format_trace_id(context.trace_id),
        span_id=trace.format_span_id(context.span_id),
    )


if __name__ == "__main__":
    run(main)
