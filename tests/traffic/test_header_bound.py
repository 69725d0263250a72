"""The traffic record keeps at most MCP_TRAFFIC_MAX_HEADERS headers and
MCP_TRAFFIC_MAX_HEADER_BYTES bytes of them per exchange (a request of 10,000 headers was kept
whole: 50 of them grew the process by 78 MB and made a 112 MB export)."""

from __future__ import annotations

from django.conf import settings

from mcp.store import get_store
from mcp.traffic import record as traffic


def test_headers_past_the_count_are_summarised():
    headers = [(f"x-h-{i}", "v") for i in range(10_000)]
    shown = traffic.masked_headers(headers)
    assert len(shown) == settings.MCP_TRAFFIC_MAX_HEADERS + 1
    more = 10_000 - settings.MCP_TRAFFIC_MAX_HEADERS
    more_bytes = sum(len(name) + len(value) for name, value in headers[settings.MCP_TRAFFIC_MAX_HEADERS :])
    assert shown[traffic.MORE_HEADERS] == f"{more} more headers, {more_bytes} bytes"


def test_headers_past_the_bytes_are_summarised():
    headers = [(f"x-big-{i}", "a" * 480) for i in range(40)]
    shown = traffic.masked_headers(headers)
    kept = {name: value for name, value in shown.items() if name != traffic.MORE_HEADERS}
    assert (
        sum(len(name) + len(value) for name, value in kept.items()) <= settings.MCP_TRAFFIC_MAX_HEADER_BYTES
    )
    assert shown[traffic.MORE_HEADERS].endswith(" bytes") and len(kept) < 40


async def test_an_exchange_with_thousands_of_headers_is_recorded_bounded(session):
    session.extra_headers.update({f"X-Flood-{i}": "v" * 20 for i in range(2000)})
    assert (await session.rpc("ping"))["result"] == {}
    entries = await traffic.recent(get_store(), session.session_id)
    last = entries[-1]
    assert len(last["headers"]) <= settings.MCP_TRAFFIC_MAX_HEADERS + 1
    assert "more headers" in last["headers"][traffic.MORE_HEADERS]
