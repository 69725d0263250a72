"""The MCP header rules (one implementation) and the verdicts printHeader shows."""

from __future__ import annotations

import pytest

from mcp.errors import HeaderMismatch
from mcp.wire import headers as rules
from mcp.wire import routing_headers as request_headers

SUPPORTED = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]


@pytest.mark.parametrize("value", ["echo", "Hello, 世界", " padded ", "=?base64?x?=", ""])
def test_encode_then_decode_gives_the_value_back(value):
    assert request_headers.decode_value(rules.encode_value(value), "Mcp-Name") == value


def test_session_era_refusals():
    assert rules.protocol_version_problem(None, SUPPORTED) is None
    assert rules.protocol_version_problem("2025-06-18", SUPPORTED) is None
    assert "unsupported MCP-Protocol-Version '1999-01-01'" in rules.protocol_version_problem(
        "1999-01-01", SUPPORTED
    )
    assert rules.session_id_problem(None) == "Bad Request: Mcp-Session-Id header is required"
    assert "visible ASCII" in rules.session_id_problem("has space")
    assert rules.session_id_problem("abc") is None


def modern_headers(**extra):
    headers = {"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "echo"}
    headers.update({name.replace("_", "-"): value for name, value in extra.items()})
    return {name: value for name, value in headers.items() if value is not None}


@pytest.mark.parametrize(
    "headers, verdict",
    [
        (modern_headers(), (True, True, True)),
        (modern_headers(mcp_name=rules.encode_value("héllo")), (True, True, False)),
        (modern_headers(mcp_protocol_version=None), (False, True, True)),
        (modern_headers(mcp_protocol_version="2025-11-25"), (False, True, True)),
        (modern_headers(mcp_method=None), (True, False, True)),
        (modern_headers(mcp_method="tools/list"), (True, False, True)),
        (modern_headers(mcp_name=None), (True, True, False)),
        (modern_headers(mcp_name="=?base64?%%%?="), (True, True, False)),
    ],
)
def test_modern_verdicts_follow_the_stateless_transports_own_checks(headers, verdict):
    found = rules.verdicts(
        headers, method="tools/call", params={"name": "echo"}, supported=SUPPORTED, meta_version="2026-07-28"
    )
    version, _, method, name = found
    assert (version.agrees, method.agrees, name.agrees) == verdict
    for v in (version, method, name):
        assert (v.refusal == "HTTP 400 -32020") == (v.agrees is False)
    # The verdict is the transport's own check (mcp.wire.routing_headers), message and all.
    expected = None
    try:
        request_headers.check_name(lambda n: headers.get(n.lower()), "tools/call", {"name": "echo"})
    except HeaderMismatch as exc:
        expected = exc.message.removeprefix("Header mismatch: ")
    assert (name.note if name.agrees is False else None) == expected


def test_verdicts_in_a_session_say_what_is_ignored_and_what_is_refused():
    found = {
        v.header: v
        for v in rules.verdicts(
            {"mcp-protocol-version": "2025-06-18", "mcp-session-id": "s1", "mcp-method": "tools/list"},
            method="tools/call",
            params={"name": "echo"},
            supported=SUPPORTED,
            session_id="s1",
            session_version="2025-11-25",
        )
    }
    assert found["MCP-Protocol-Version"].agrees is False and found["MCP-Protocol-Version"].refusal is None
    assert "negotiated 2025-11-25" in found["MCP-Protocol-Version"].note
    assert found["Mcp-Session-Id"].agrees is True
    assert found["Mcp-Method"].agrees is False and "ignored in a session" in found["Mcp-Method"].note
    assert found["Mcp-Name"].agrees is None and "required there (HTTP 400 -32020)" in found["Mcp-Name"].note


def test_verdicts_for_a_modern_request_name_the_refusal():
    found = rules.verdicts(
        {"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call"},
        method="tools/call",
        params={"name": "echo"},
        supported=SUPPORTED,
        meta_version="2026-07-28",
    )
    assert [(v.header, v.agrees, v.refusal) for v in found] == [
        ("MCP-Protocol-Version", True, None),
        ("Mcp-Session-Id", None, None),
        ("Mcp-Method", True, None),
        ("Mcp-Name", False, "HTTP 400 -32020"),
    ]
    assert "needs the Mcp-Name header" in found[3].note


async def test_print_header_shows_the_verdicts(session):
    text = await session.tool_text(
        "printHeader", {}, **{"Mcp-Method": "tools/call", "Mcp-Name": rules.encode_value("printHeader")}
    )
    section = text[text.index("MCP HEADER VERDICTS:") :]
    assert "✅ MCP-Protocol-Version: '2025-11-25': matches the version the session negotiated" in section
    assert f"✅ Mcp-Session-Id: '{session.session_id}': names this live session" in section
    assert "✅ Mcp-Method: 'tools/call': ignored in a session; matches the body" in section
    assert "✅ Mcp-Name: 'printHeader': ignored in a session; matches the body" in section


async def test_print_header_flags_a_version_the_session_did_not_negotiate(session):
    text = await session.tool_text("printHeader", {}, **{"MCP-Protocol-Version": "2025-06-18"})
    assert "❌ MCP-Protocol-Version: '2025-06-18': the session negotiated 2025-11-25" in text
    assert "· Mcp-Method: absent: not used before 2026-07-28" in text
