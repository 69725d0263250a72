"""The debug toolset as a client sees it: the seed's outputs, without its leaks and crashes."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from mcp.bus import get_bus
from mcp.calls.context import Context
from mcp.store import get_store
from mcp.tools.debug import TOOLSET
from mcp.wire.request import RequestInfo
from tests.support.client import McpClient

SEED_TOOLS = {
    "echo": "Echo back the provided message",
    "replayLastEcho": "Replay the last message that was echoed in this session",
    "printHeader": "Print all HTTP headers from the current request",
    "bearerDecode": "Decode JWT Bearer token from Authorization header (no signature verification)",
    "authContext": "Display complete authentication context from request",
    "requestTiming": "Show request timing and performance metrics",
    "corsAnalysis": "Analyze CORS configuration and requirements",
    "environmentDump": "Display sanitized environment configuration",
    "healthProbe": "Perform deep health check of service and dependencies",
    "sessionInfo": "Display current session information and statistics",
    "whoIStheGOAT": "Employs cutting-edge artificial intelligence to perform comprehensive analysis of "
    "global software engineering excellence metrics using proprietary deep learning models",
}
NO_SESSION_TOOLS = [name for name in SEED_TOOLS if name not in ("echo", "replayLastEcho")]


def part(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


SIGNATURE = part(b"a signature whose tail must never be shown")


def jwt_token(payload: Any = None, header: Any = None, signature: str = SIGNATURE) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "key-1"} if header is None else header
    return f"{part(header)}.{part({} if payload is None else payload)}.{signature}"


def bearer(payload: Any = None, **options: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt_token(payload, **options)}"}


async def call(
    name: str,
    args: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    *,
    auth: dict[str, Any] | None = None,
    age: float = 0.0,
) -> str:
    """Run a tool directly, with no session (the HTTP transport always has one)."""
    info = RequestInfo("POST", "/mcp", {k.lower(): v for k, v in (headers or {}).items()}, auth=auth)
    info.started -= age
    ctx = Context(request=info, session=None, store=get_store(), bus=get_bus())
    result = await TOOLSET.tools[name].func(ctx, args or {})
    assert isinstance(result, str)
    return result


# --- tools/list -----------------------------------------------------------------------------------


async def test_tools_list_shows_the_eleven_seed_tools_with_descriptions_and_schemas(session):
    listed = {tool["name"]: tool for tool in (await session.rpc("tools/list"))["result"]["tools"]}
    for name, description in SEED_TOOLS.items():
        assert listed[name]["description"] == description
        schema = listed[name]["inputSchema"]
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
    assert listed["bearerDecode"]["inputSchema"]["properties"]["includeRaw"] == {
        "type": "boolean",
        "default": False,
        "description": "Include raw token parts",
    }
    assert listed["environmentDump"]["inputSchema"]["properties"]["showSecrets"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("bearerDecode", {"includeRaw": "yes"}),
        ("environmentDump", {"showSecrets": 1}),
        ("printHeader", {"extra": True}),
        ("sessionInfo", {"verbose": True}),
    ],
)
async def test_bad_arguments_are_an_error_result(session, name, arguments):
    result = await session.call_tool(name, arguments)
    assert result["isError"] is True


# --- Every tool, with and without a session --------------------------------------------------------


@pytest.mark.parametrize("name", NO_SESSION_TOOLS)
async def test_every_tool_answers_without_a_session(name):
    lines = (await call(name)).splitlines()
    assert lines[1] in ("=" * 40, "=" * 50)
    assert not any(line.startswith(("Session: ", "Session ID:", "Session Age:", "Client:")) for line in lines)


@pytest.mark.parametrize("name", [n for n in NO_SESSION_TOOLS if n not in ("printHeader", "sessionInfo")])
async def test_tools_name_the_callers_session_by_its_first_eight_characters(session, name):
    text = await session.tool_text(name, {})
    assert f"\nSession: {session.session_id[:8]}...\n" in text


# --- printHeader ----------------------------------------------------------------------------------


SECRETS = {
    "Authorization": "Bearer sk-live-SECRETVALUE-1234567890",
    "Proxy-Authorization": "Basic cHJveHk6U0VDUkVUUFJPWFk=",
    "Cookie": "sessionid=SECRETCOOKIE",
    "X-Auth-Token": "gateway-SECRETTOKEN-value",
    "X-Api-Key": "apikey-SECRETKEY-value",
    "X-Csrf-Token": "csrf-SECRETCSRF-value",
}


async def test_print_header_masks_every_credential_beyond_a_short_prefix(session):
    text = await session.tool_text("printHeader", {}, **SECRETS)
    for secret in (
        "SECRETVALUE",
        "1234567890",
        "U0VDUkVUUFJPWFk",
        "SECRETCOOKIE",
        "SECRETTOKEN",
        "SECRETKEY",
    ):
        assert secret not in text
    assert "SECRETCSRF" not in text
    assert "  authorization: Bearer sk-l…[30 chars redacted]" in text
    assert "  cookie: sess…[22 chars redacted]" in text
    assert "  x-auth-token: gate…[25 chars redacted]" in text
    assert "  x-api-key: apik…[22 chars redacted]" in text


async def test_print_header_groups_headers_like_the_seed(session):
    text = await session.tool_text(
        "printHeader", {}, **{"X-Forwarded-For": "203.0.113.9", "X-User-Id": "42", "X-User-Name": "ada"}
    )
    lines = text.splitlines()
    assert lines[:3] == ["HTTP Headers:", "=" * 50, ""]
    forwarded = lines.index("TRAEFIK FORWARDED HEADERS:")
    assert lines[forwarded + 2] == "  x-forwarded-for: 203.0.113.9"
    auth = lines.index("AUTHENTICATION HEADERS:")
    assert lines[auth + 2 : auth + 4] == ["  x-user-id: 42", "  x-user-name: ada"]
    request = lines.index("REQUEST HEADERS:")
    assert "  content-type: application/json" in lines[request:]
    assert "ALL HEADERS (Alphabetical):" in lines
    assert lines[-4:] == [
        "Session Context:",
        "-" * 30,
        f"Session ID: {session.session_id}",
        "Session Initialized: Yes",
    ]


async def test_print_header_without_a_session_has_no_session_context():
    text = await call("printHeader", headers={"Accept": "application/json"})
    assert "  accept: application/json" in text
    assert "Session Context:" not in text
    assert "AUTHENTICATION HEADERS:" not in text


async def test_print_header_strips_control_characters_from_values():
    text = await call("printHeader", headers={"X-Note": "line1\r\nFAKE: header\x1b[0m"})
    assert "  x-note: line1 FAKE: header[0m" in text


# --- bearerDecode ---------------------------------------------------------------------------------


async def test_bearer_decode_shows_header_claims_and_unverified_signature(session):
    now = int(time.time())
    payload = {
        "iss": "https://auth.example.com",
        "sub": "user-123",
        "aud": "https://echo.example.com",
        "jti": "jti-42",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
        "client_id": "client-xyz",
        "scope": "mcp:read mcp:write",
    }
    text = await session.tool_text("bearerDecode", {}, **bearer(payload))
    lines = text.splitlines()
    assert lines[:5] == ["Bearer Token Analysis", "=" * 40, "", f"Session: {session.session_id[:8]}...", ""]
    for line in [
        "✅ Valid JWT structure",
        "  Algorithm: RS256",
        "  Type: JWT",
        "  Key ID: key-1",
        "  Issuer: https://auth.example.com",
        "  Subject: user-123",
        "  Audience: https://echo.example.com",
        "  JWT ID: jti-42",
        '  client_id: "client-xyz"',
        '  scope: "mcp:read mcp:write"',
        "Signature: NOT verified (decoded without verification)",
    ]:
        assert line in lines
    assert any(line.startswith("  Not Before: ") and line.endswith("s ago)") for line in lines)
    assert any(line.startswith("  Expires: ") and "(in 3" in line for line in lines)
    assert "Raw Parts:" not in text


async def test_bearer_decode_include_raw_truncates_parts_and_hides_the_signature_tail(session):
    text = await session.tool_text("bearerDecode", {"includeRaw": True}, **bearer({"sub": "x" * 300}))
    assert "Raw Parts:" in text
    assert f"  Signature: {SIGNATURE[:4]}…[{len(SIGNATURE)} chars redacted]" in text
    assert SIGNATURE[-10:] not in text


async def test_bearer_decode_says_verified_when_the_server_verified_the_token():
    text = await call("bearerDecode", headers=bearer({"sub": "ada"}), auth={"sub": "ada"})
    assert "Signature: verified by this server" in text
    assert "NOT verified" not in text


MALFORMED = [
    ({}, "❌ No Authorization header found"),
    (
        {"Authorization": "Basic dXNlcjpodW50ZXIy"},
        "❌ Authorization header is not Bearer type: Basic dXNl…[16",
    ),
    ({"Authorization": "Bearer "}, "❌ Bearer token is empty"),
    ({"Authorization": "Bearer abc.def"}, "❌ Invalid JWT format (expected 3 parts, got 2)"),
    ({"Authorization": "Bearer a.b.c.d"}, "❌ Invalid JWT format (expected 3 parts, got 4)"),
    (
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9a.e30.c2ln"},
        "❌ Error decoding JWT: Invalid header padding",
    ),
    (bearer(header=[1, 2]), "❌ Error decoding JWT: Invalid header string: must be a json object"),
    (bearer(5), "❌ Error decoding JWT: Invalid payload string: must be a json object"),
    (bearer("just a string"), "❌ Error decoding JWT: Invalid payload string: must be a json object"),
    (bearer([1, 2, 3]), "❌ Error decoding JWT: Invalid payload string: must be a json object"),
    (bearer(b"[" * 3000 + b"]" * 3000), "❌ Error decoding JWT: Invalid payload string: maximum recursion"),
    (bearer({"iat": "yesterday"}), "  Issued At: yesterday (❌ not a NumericDate)"),
    (bearer({"exp": 10**30}), "  Expires: 1000000000000000000000000000000 (❌ out of range)"),
    (bearer({"iat": 1e300}), "  Issued At: 1e+300 (❌ out of range)"),
    (bearer({"nbf": 1e300}), "  Not Before: 1e+300 (❌ out of range)"),
    (bearer(b'{"exp": NaN}'), "  Expires: nan (❌ not a finite number)"),
    (bearer({"sub": "a"}, signature=""), "❌ Signature: Missing (empty third part: the token is unsigned)"),
]


@pytest.mark.parametrize(("headers", "expected"), MALFORMED)
async def test_bearer_decode_explains_every_malformed_token(session, headers, expected):
    result = await session.call_tool("bearerDecode", {"includeRaw": True}, **headers)
    assert not result.get("isError")
    assert any(line.startswith(expected) for line in result["content"][0]["text"].splitlines())


async def test_bearer_decode_rejects_non_ascii_tokens():
    text = await call("bearerDecode", headers={"Authorization": "Bearer ëyJ.e30.c2ln"})
    assert "❌ Token contains non-ASCII characters (a JWT is base64url text)" in text


async def test_bearer_decode_never_shows_basic_credentials(session):
    text = await session.tool_text("bearerDecode", {}, Authorization="Basic dXNlcjpodW50ZXIyaHVudGVyMg==")
    assert "dXNlcjpodW50ZXIy" not in text


# --- authContext ----------------------------------------------------------------------------------


OAUTH = {
    "X-User-Id": "42",
    "X-User-Name": "ada",
    "X-Auth-Token": "supersecret-gateway-token-value-1234567890",
    "X-Client-Id": "cid",
    "X-OAuth-Client": "oc",
}


async def test_auth_context_shows_identity_headers_as_sent_and_masks_the_token(session):
    headers = {**OAUTH, **bearer({"sub": "user-123", "client_id": "client-xyz"})}
    text = await session.tool_text("authContext", {}, **headers)
    lines = text.splitlines()
    assert lines[:3] == ["Authentication Context Analysis", "=" * 40, ""]
    token_length = len(headers["Authorization"]) - len("Bearer ")
    for line in [
        "Bearer Token:",
        f"  ✅ Present (length: {token_length})",
        "  Subject: user-123",
        "  Client ID: client-xyz",
        "  Verified: no (decoded without verification)",
        "OAuth Headers (unverified, any caller can send them):",
        "  User ID: 42",
        "  User Name: ada",
        "  Auth Token: supe…[42 chars redacted]",
        "  Client ID: cid",
        "  OAuth Client: oc",
    ]:
        assert line in lines
    assert "gateway-token" not in text


async def test_auth_context_without_credentials():
    text = await call("authContext")
    assert "Bearer Token:\n  ❌ Not present" in text
    assert "  ❌ No OAuth headers found" in text


async def test_auth_context_says_verified_when_the_server_verified_the_token():
    text = await call("authContext", headers=bearer({"sub": "u"}), auth={"sub": "verified-user"})
    assert "  Subject: verified-user" in text
    assert "  Verified: yes (signature checked by this server)" in text


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"Authorization": "Basic dXNlcjpodW50ZXIyaHVudGVyMg=="},
            "  ❌ Authorization header is not Bearer type: Basic",
        ),
        (bearer(5), "  ❌ Error decoding JWT: Invalid payload string: must be a json object"),
        ({"Authorization": "Bearer a.b"}, "  ❌ Invalid JWT format (expected 3 parts, got 2)"),
    ],
)
async def test_auth_context_reports_unreadable_tokens(session, headers, expected):
    text = await session.tool_text("authContext", {}, **headers)
    assert any(line.startswith(expected) for line in text.splitlines())
    assert "dXNlcjpodW50ZXIy" not in text


# --- whoIStheGOAT ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        (bearer({"name": "Ada Lovelace", "username": "ada", "sub": "u1"}), "Ada Lovelace"),
        (bearer({"username": "ada", "sub": "u1"}), "ada"),
        (bearer({"sub": "u1"}), "u1"),
        ({"X-User-Name": "Grace Hopper", "X-User-Id": "7"}, "Grace Hopper"),
        ({"X-User-Id": "7"}, "7"),
        ({**bearer(5), "X-User-Name": "Fallback"}, "Fallback"),
    ],
)
async def test_goat_names_the_caller(session, headers, name):
    text = await session.tool_text("whoIStheGOAT", {}, **headers)
    lines = text.splitlines()
    assert lines[:7] == [
        "G.O.A.T. PROGRAMMER IDENTIFICATION SYSTEM v3.14159",
        "=" * 50,
        "",
        f"Session: {session.session_id[:8]}...",
        "Client: pytest v1.0",
        "",
        "ADVANCED AI ANALYSIS COMPLETE",
    ]
    assert f"Subject: {name}" in lines
    assert f"Based on irrefutable AI analysis, {name} represents" in lines
    assert "• Protocol Compliance: MCP 2025-11-25 Excellence" in lines


async def test_goat_without_identity_asks_for_credentials(session):
    text = await session.tool_text("whoIStheGOAT", {})
    assert text.endswith("AUTHENTICATION REQUIRED\nPlease provide valid authentication credentials.\n")


async def test_goat_strips_control_characters_and_caps_the_name():
    text = await call("whoIStheGOAT", headers=bearer({"name": "Evil\r\nSubject: forged\u202e" + "x" * 500}))
    subject = next(line for line in text.splitlines() if line.startswith("Subject: "))
    assert subject.startswith("Subject: Evil Subject: forged")
    assert len(subject) == len("Subject: ") + 100
    assert "\u202e" not in text


async def test_goat_prefers_verified_claims():
    text = await call("whoIStheGOAT", headers=bearer({"name": "Claimed"}), auth={"name": "Verified Name"})
    assert "Subject: Verified Name" in text


# --- requestTiming --------------------------------------------------------------------------------


async def test_request_timing_reports_elapsed_time_and_session_age(session):
    text = await session.tool_text("requestTiming", {})
    lines = text.splitlines()
    assert lines[3] == f"Session: {session.session_id[:8]}..."
    assert lines[4].startswith("Session Age: ") and lines[4].endswith("s")
    assert lines[6] == "Timing:"
    assert lines[7].startswith("  Request received: 20")
    assert lines[8].startswith("  Current time: 20")
    assert lines[9].startswith("  Elapsed: ") and lines[9].endswith("ms")
    assert lines[11] == "Performance Indicators:"


@pytest.mark.parametrize(
    ("age", "verdict"),
    [
        (0.0, "  ⚡ Excellent (<10ms)"),
        (0.02, "  ✅ Good (<50ms)"),
        (0.07, "  ⚠️  Acceptable (<100ms)"),
        (0.5, "  ❌ Slow (>100ms)"),
    ],
)
async def test_request_timing_keeps_the_seed_thresholds(age, verdict):
    text = await call("requestTiming", age=age)
    assert text.splitlines()[-1] == verdict


# --- corsAnalysis ---------------------------------------------------------------------------------


async def test_cors_without_origin(session):
    text = await session.tool_text("corsAnalysis", {})
    assert "  Origin: Not present (same-origin request)" in text
    assert "  ✅ No Origin header: not a cross-origin browser request, CORS does not apply" in text
    assert "DIVINE" not in text and "Traefik" not in text


async def test_cors_reports_an_allowed_origin_and_the_servers_policy(session):
    text = await session.tool_text(
        "corsAnalysis",
        {},
        Origin="http://localhost:5173",
        **{
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "mcp-session-id, x-custom",
        },
    )
    lines = text.splitlines()
    for line in [
        "  Origin: http://localhost:5173",
        "  Access-Control-Request-Method: POST",
        "  Access-Control-Request-Headers: mcp-session-id, x-custom",
        "  Allowed Methods: GET, POST, DELETE, OPTIONS",
        "  Exposed Headers: Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate",
        "  ✅ Origin http://localhost:5173 is allowed",
        "  ❌ Headers not allowed: x-custom",
    ]:
        assert line in lines
    assert any(line.startswith("  Allowed Origins: http://localhost") for line in lines)
    assert any(line.startswith("  Allowed Headers: ") and "mcp-session-id" in line for line in lines)


async def test_cors_reports_a_refused_origin_and_method():
    headers = {
        "Origin": "https://evil.example",
        "Host": "127.0.0.1:3000",
        "Access-Control-Request-Method": "PUT",
    }
    text = await call("corsAnalysis", headers=headers)
    assert "  ❌ Origin https://evil.example is not allowed: such requests get 403" in text
    assert "  ❌ Method PUT is not allowed" in text


# --- environmentDump ------------------------------------------------------------------------------


async def test_environment_dump_shows_configuration_without_url_passwords(session, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://user:hunter2@host:6379/0")
    monkeypatch.setenv("MCP_ECHO_PORT", "7201")
    monkeypatch.delenv("MCP_ECHO_HOST", raising=False)
    for show in (False, True):
        text = await session.tool_text("environmentDump", {"showSecrets": show})
        assert "hunter2" not in text
        lines = text.splitlines()
        assert "  REDIS_URL: redis://user:***@host:6379/0" in lines
        assert "  MCP_ECHO_PORT: 7201" in lines
        assert "  MCP_ECHO_HOST: 127.0.0.1 (default)" in lines
        assert "  MCP_SESSION_TIMEOUT: 3600 (default)" in lines
        for name in ("MCP_PROTOCOL_VERSIONS_SUPPORTED", "MCP_STORE", "MCP_TOOLSETS", "MCP_ALLOWED_ORIGINS"):
            assert any(line.startswith(f"  {name}: ") for line in lines)
        for label in ("Python", "Django", "Platform", "Hostname"):
            assert any(line.startswith(f"  {label}: ") for line in lines)


async def test_show_secrets_changes_how_secret_values_are_shown(session, monkeypatch):
    secret = "s3cr3t-signing-key-with-a-private-tail"
    monkeypatch.setenv("MCP_JWT_SECRET", secret)
    hidden = await session.tool_text("environmentDump", {})
    shown = await session.tool_text("environmentDump", {"showSecrets": True})
    assert hidden != shown
    assert f"  MCP_JWT_SECRET: [set, {len(secret)} chars]" in hidden.splitlines()
    assert f"  MCP_JWT_SECRET: s3cr…[{len(secret)} chars redacted]" in shown.splitlines()
    for text in (hidden, shown):
        assert "signing-key" not in text
        assert "private-tail" not in text


async def test_environment_dump_masks_credentials_in_other_values(monkeypatch):
    monkeypatch.setenv(
        "MCP_UPSTREAM", "https://admin:topsecret@upstream.example/x?upstream_token=abcdef123456"
    )
    text = await call("environmentDump", {"showSecrets": True})
    assert "topsecret" not in text
    assert "abcdef123456" not in text
    assert (
        "  MCP_UPSTREAM: https://admin:***@upstream.example/x?upstream_token=abcd…[12 chars redacted]" in text
    )


# --- healthProbe ----------------------------------------------------------------------------------


async def test_health_probe_runs_real_checks(session):
    text = await session.tool_text("healthProbe", {})
    lines = text.splitlines()
    assert "  Status: ✅ HEALTHY" in lines
    assert any(line.startswith("  Session Store (memory): ✅ answering in ") for line in lines)
    assert "  Message Bus: memory" in lines
    assert "  Active Sessions: 1" in lines
    assert "  Session Timeout: 3600s" in lines
    assert any(line.startswith("  Current Session Age: ") for line in lines)
    assert any(line.startswith("  Uptime: ") for line in lines)
    assert any(line.startswith("  Memory (RSS): ") and line.endswith(" MB") for line in lines)
    assert any(line.startswith("  Python: 3.") for line in lines)
    assert any(line.startswith("  Django: 5.") for line in lines)


async def test_health_probe_is_degraded_when_the_store_does_not_answer(monkeypatch):
    store = get_store()

    async def unreachable() -> bool:
        raise ConnectionError("redis://user:hunter2@db:6379 refused")

    async def no_stats():
        raise ConnectionError("down")

    monkeypatch.setattr(store, "ping", unreachable)
    monkeypatch.setattr(store, "stats", no_stats)
    text = await call("healthProbe")
    assert "  Status: ⚠️  DEGRADED" in text
    assert "  Session Store (memory): ❌ unreachable (ConnectionError" in text
    assert "  Active Sessions: unknown (store unreachable)" in text
    assert "hunter2" not in text


async def test_health_probe_is_degraded_when_ping_says_no(monkeypatch):
    async def no() -> bool:
        return False

    monkeypatch.setattr(get_store(), "ping", no)
    assert "  Status: ⚠️  DEGRADED" in await call("healthProbe")


# --- sessionInfo ----------------------------------------------------------------------------------


async def test_session_info_shows_the_callers_session_and_only_aggregates(session, http):
    other = McpClient(http)
    await other.initialize(client_name="someone-else")
    text = await session.tool_text("sessionInfo", {})
    lines = text.splitlines()
    assert lines[:4] == ["Session Information", "=" * 40, "", "Current Session:"]
    for line in [
        f"  Session ID: {session.session_id}",
        "  Initialized: Yes",
        "  Protocol Version: 2025-11-25",
        "  Client: pytest v1.0",
        "  Queued Messages: 0 (dropped: 0)",
        "Server Statistics:",
        "  Total Active Sessions: 2",
        "  Sessions Created: 2",
        "  Sessions Expired: 0",
        "  Sessions Deleted: 0",
        "  Session Timeout: 3600 seconds",
    ]:
        assert line in lines
    assert any(line.startswith("  Created: 20") for line in lines)
    assert any(line.startswith("  Last Activity: 20") for line in lines)
    assert any(line.startswith("  Requests: ") for line in lines)
    assert other.session_id[:8] not in text
    assert "someone-else" not in text


async def test_session_info_counts_queued_messages(session):
    await get_bus().publish(session.session_id, "g", {"jsonrpc": "2.0", "method": "notifications/x"})
    text = await session.tool_text("sessionInfo", {})
    assert "  Queued Messages: 1 (dropped: 0)" in text.splitlines()


async def test_session_info_without_a_session_lists_nobody(session):
    text = await call("sessionInfo")
    assert "Current Session: None" in text.splitlines()
    assert "  Total Active Sessions: 1" in text.splitlines()
    assert session.session_id[:8] not in text
    assert "pytest" not in text
