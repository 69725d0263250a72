"""HAR 1.2 and JSON-lines exports of a recorded session (pure; the schema check: tests/e2e)."""

from __future__ import annotations

import orjson
from haralyzer import HarParser

from mcp.traffic.har import to_har, to_json_lines

SUPPORTED = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
SESSION = "0123456789abcdef0123456789abcdef"


def entry(**overrides):
    base = {
        "t": 1764400000.25,
        "ms": 12.5,
        "http": "POST",
        "path": "/mcp",
        "status": 200,
        "method": "tools/call",
        "id": 3,
        "era": "2025",
        "headers": {
            "host": "127.0.0.1:3000",
            "content-type": "application/json",
            "authorization": "Bearer eyJh…[120 chars redacted]",
            "mcp-session-id": SESSION,
            "mcp-protocol-version": "2025-06-18",
        },
        "request": '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{}}}',
        "response": '{"jsonrpc":"2.0","id":3,"result":{"content":[]}}',
        "response_headers": {"content-type": "application/json"},
        "marks": ["latency"],
    }
    base.update(overrides)
    return base


ENTRIES = [
    entry(),
    entry(
        http="GET",
        method=None,
        id=None,
        request="",
        response="id: a-1\ndata: \n\n",
        marks=["drop_stream"],
        response_headers={"content-type": "text/event-stream"},
    ),
    entry(status=503, response='{"jsonrpc":"2.0","error":{"code":-32603,"message":"x"}}', marks=["http_503"]),
    entry(
        request='{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"ech…', status=401, marks=[]
    ),
]


def export() -> dict:
    return to_har(
        ENTRIES, version="1.0.0", session_id=SESSION, session_version="2025-11-25", supported=SUPPORTED
    )


def test_one_entry_per_recorded_exchange_in_order():
    har = export()
    assert har["log"]["version"] == "1.2"
    entries = har["log"]["entries"]
    assert [e["response"]["status"] for e in entries] == [200, 200, 503, 401]
    assert [e["_mcp"]["marks"] for e in entries] == [["latency"], ["drop_stream"], ["http_503"], []]
    first = entries[0]
    assert first["request"]["url"] == "http://127.0.0.1:3000/mcp"
    assert first["startedDateTime"] == "2025-11-29T07:06:40.250Z"
    assert first["response"]["statusText"] == "OK"
    assert {"name": "authorization", "value": "Bearer eyJh…[120 chars redacted]"} in first["request"][
        "headers"
    ]
    assert entries[1]["request"]["method"] == "GET" and "postData" not in entries[1]["request"]
    # A cut excerpt has an unknown size.
    assert entries[3]["request"]["bodySize"] == -1


def test_entries_carry_the_header_verdicts():
    verdicts = {v["header"]: v for v in export()["log"]["entries"][0]["_mcp"]["headerVerdicts"]}
    assert verdicts["MCP-Protocol-Version"]["agrees"] is False
    assert verdicts["Mcp-Session-Id"]["agrees"] is True
    assert verdicts["Mcp-Name"]["agrees"] is None
    assert export()["log"]["entries"][1]["_mcp"]["headerVerdicts"] == []


def test_a_har_library_reads_it_back():
    parser = HarParser(export())
    entries = parser.pages[0].entries
    assert len(entries) == len(ENTRIES)
    assert [e.status for e in entries] == [200, 200, 503, 401]
    assert entries[0].request.method == "POST" and entries[0].url == "http://127.0.0.1:3000/mcp"


def test_json_lines_are_the_record_with_verdicts():
    text = to_json_lines(ENTRIES, session_id=SESSION, session_version="2025-11-25", supported=SUPPORTED)
    lines = [orjson.loads(line) for line in text.splitlines()]
    assert len(lines) == len(ENTRIES) and text.endswith("\n")
    assert (
        lines[2]["marks"] == ["http_503"]
        and lines[0]["headerVerdicts"][0]["header"] == "MCP-Protocol-Version"
    )
