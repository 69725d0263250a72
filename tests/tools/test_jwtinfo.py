"""mcp.tools.jwtinfo: reading untrusted tokens never raises anything but TokenProblem."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp.tools import jwtinfo
from mcp.tools.jwtinfo import TokenProblem

NOW = 1_800_000_000


def part(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(header: Any = None, payload: Any = None, signature: str = "c2lnbmF0dXJl") -> str:
    header = {"alg": "HS256", "typ": "JWT"} if header is None else header
    return f"{part(header)}.{part({} if payload is None else payload)}.{signature}"


def describe(payload: dict[str, Any], **options: Any) -> list[str]:
    decoded = jwtinfo.decode(token(payload=payload))
    return jwtinfo.describe(decoded, now=NOW, verified=options.pop("verified", False), **options)


# --- bearer_token ---------------------------------------------------------------------------------


def test_bearer_token_takes_the_token_after_the_scheme_in_any_case():
    assert jwtinfo.bearer_token("bEaReR   abc.def.ghi ") == "abc.def.ghi"


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        ("", "No Authorization header found"),
        ("   ", "No Authorization header found"),
        ("Bearer", "Bearer token is empty"),
        ("Bearer    ", "Bearer token is empty"),
    ],
)
def test_bearer_token_explains_a_missing_token(authorization, reason):
    with pytest.raises(TokenProblem, match=reason):
        jwtinfo.bearer_token(authorization)


def test_another_scheme_is_named_without_its_credentials():
    with pytest.raises(TokenProblem) as caught:
        jwtinfo.bearer_token("Basic dXNlcjpodW50ZXIyaHVudGVyMg==")
    message = str(caught.value)
    assert message.startswith("Authorization header is not Bearer type: Basic")
    assert "dXNlcjpodW50ZXIy" not in message


# --- decode ---------------------------------------------------------------------------------------


def test_decode_returns_header_payload_and_parts():
    decoded = jwtinfo.decode(token(payload={"sub": "ada"}))
    assert decoded.header == {"alg": "HS256", "typ": "JWT"}
    assert decoded.payload == {"sub": "ada"}
    assert decoded.parts[2] == "c2lnbmF0dXJl"
    assert decoded.signed


def test_an_empty_signature_decodes_but_is_unsigned():
    assert not jwtinfo.decode(token(signature="")).signed


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc.def", "expected 3 parts, got 2"),
        ("a.b.c.d", "expected 3 parts, got 4"),
        ("nodots", "expected 3 parts, got 1"),
        ("ëyJ.e30.c2ln", "non-ASCII"),
        ("e y.e30.c2ln", "header is not base64url"),
        ("eyJ9.e30.c2l+", "signature is not base64url"),
        (".e30.c2ln", "header is empty"),
        (f"{part({'alg': 'none'})}..c2ln", "payload is empty"),
        (f"{part({'alg': 'none'})}a.e30.c2ln", "Error decoding JWT: Invalid header padding"),
        (token(header=[1, 2]), "header string: must be a json object"),
        (token(payload=5), "payload string: must be a json object"),
        (token(payload="a string"), "payload string: must be a json object"),
        (token(payload=[1, 2]), "payload string: must be a json object"),
        (token(header=b"{not json"), "Error decoding JWT: Invalid header string"),
        (token(payload=b"[" * 5000 + b"]" * 5000), "Error decoding JWT"),
    ],
)
def test_malformed_tokens_raise_a_readable_problem(raw, reason):
    with pytest.raises(TokenProblem, match=reason.replace("(", r"\(").replace("+", r"\+")):
        jwtinfo.decode(raw)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_decode_raises_nothing_but_token_problem_on_any_text(raw):
    try:
        jwtinfo.decode(raw)
    except TokenProblem as problem:
        assert "\n" not in str(problem)


# --- describe -------------------------------------------------------------------------------------


def test_describe_shows_registered_claims_with_relative_times():
    lines = describe(
        {"iss": "https://auth", "sub": "u-1", "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3600}
    )
    assert "  Issuer: https://auth" in lines
    assert "  Subject: u-1" in lines
    assert "  Issued At: 2027-01-15T07:59:00+00:00 (60s ago)" in lines
    assert "  Not Before: 2027-01-15T07:59:00+00:00 (60s ago)" in lines
    assert "  Expires: 2027-01-15T09:00:00+00:00 (in 3600s)" in lines
    assert "Signature: NOT verified (decoded without verification)" in lines


def test_describe_flags_expired_and_not_yet_valid_tokens():
    lines = describe({"exp": NOW - 100, "nbf": NOW + 30})
    assert "  Expires: 2027-01-15T07:58:20+00:00 (EXPIRED 100s ago!)" in lines
    assert "  Not Before: 2027-01-15T08:00:30+00:00 (NOT YET VALID, in 30s!)" in lines


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"iat": "yesterday"}, "  Issued At: yesterday (❌ not a NumericDate)"),
        ({"exp": True}, "  Expires: true (❌ not a NumericDate)"),
        ({"nbf": [1]}, "  Not Before: [1] (❌ not a NumericDate)"),
        ({"exp": 10**30}, "  Expires: 1000000000000000000000000000000 (❌ out of range)"),
        ({"iat": 1e300}, "  Issued At: 1e+300 (❌ out of range)"),
        ({"iat": -1e18}, "  Issued At: -1e+18 (❌ out of range)"),
    ],
)
def test_describe_marks_bad_dates_instead_of_crashing(claims, expected):
    assert expected in describe(claims)


def test_describe_survives_non_finite_numbers():
    decoded = jwtinfo.decode(token(payload=b'{"iat": NaN, "exp": Infinity}'))
    lines = jwtinfo.describe(decoded, now=NOW, verified=False)
    assert "  Issued At: nan (❌ not a finite number)" in lines
    assert "  Expires: inf (❌ not a finite number)" in lines


def test_describe_json_dumps_custom_claims_and_strips_control_characters():
    lines = describe({"client_id": "client-xyz", "roles": ["a", "b"], "evil\u202e": "x\x1b[31m\u202ey"})
    assert '  client_id: "client-xyz"' in lines
    assert '  roles: ["a", "b"]' in lines
    assert '  evil: "x\\u001b[31my"' in lines


def test_describe_caps_long_values():
    lines = describe({"sub": "s" * 5000, "blob": "b" * 5000})
    assert max(len(line) for line in lines) < 260


def test_describe_says_verified_only_when_the_server_verified():
    assert "Signature: verified by this server" in describe({}, verified=True)
    assert "Signature: verified by this server" not in describe({}, verified=False)


def test_describe_flags_a_missing_signature():
    lines = jwtinfo.describe(jwtinfo.decode(token(signature="")), now=NOW, verified=False)
    assert "❌ Signature: Missing (empty third part: the token is unsigned)" in lines


def test_raw_parts_are_truncated_and_the_signature_masked():
    signature = part(b"signature bytes ending in a secret tail")
    decoded = jwtinfo.decode(token(payload={"data": "x" * 200}, signature=signature))
    lines = jwtinfo.describe(decoded, now=NOW, verified=False, include_raw=True)
    raw = lines[lines.index("Raw Parts:") :]
    assert raw[2] == f"  Payload: {decoded.parts[1][:50]}..."
    assert raw[3] == f"  Signature: {signature[:4]}…[{len(signature)} chars redacted]"
    assert signature[-12:] not in "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=20),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
            lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children),
            max_leaves=10,
        ),
        max_size=8,
    )
)
def test_describe_never_raises_on_any_json_payload(payload):
    for claim in ("iat", "exp", "nbf"):
        payload.setdefault(claim, payload.get("x"))
    lines = jwtinfo.describe(jwtinfo.DecodedToken({}, payload, ("a", "b", "c")), now=NOW, verified=False)
    assert all("\n" not in line for line in lines)


# --- identity_name --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        ({"name": "Ada Lovelace", "username": "ada", "sub": "u-1"}, "Ada Lovelace"),
        ({"username": "ada", "sub": "u-1"}, "ada"),
        ({"sub": "u-1"}, "u-1"),
        ({"name": 42, "username": "   ", "sub": "u-1"}, "u-1"),
        ({"name": "Grace\r\nHopper\u202e"}, "Grace Hopper"),
        ({}, None),
        ({"sub": 7}, None),
    ],
)
def test_identity_name_prefers_name_then_username_then_sub(payload, name):
    assert jwtinfo.identity_name(payload) == name


def test_identity_name_is_capped_at_100_characters():
    name = jwtinfo.identity_name({"name": "x" * 1000})
    assert name is not None
    assert len(name) == 100
