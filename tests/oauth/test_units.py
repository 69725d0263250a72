"""The embedded authorization server's pure parts and its settings (the flows are in tests/e2e)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcp.auth import scopes as authz
from mcp.errors import Forbidden
from mcp.oauth import misbehaviours
from mcp.oauth.policy import is_acceptable_redirect_uri, is_loopback
from mcp.wire.request import RequestInfo

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["deny"], ["deny"]),
        ([" wrong_state ", "deny", "deny"], ["wrong_state", "deny"]),
        (["step_up:echo", "refresh_fails"], ["step_up:echo", "refresh_fails"]),
        (["", "  "], []),
    ],
)
def test_misbehaviours_parse(values, expected):
    assert misbehaviours.parse_all(values) == expected


@pytest.mark.parametrize(
    "value", ["nope", "deny:x", "step_up", "step_up:", "step_up:" + "x" * 200, "step_up:a\nb"]
)
def test_bad_misbehaviours_are_refused(value):
    with pytest.raises(ValueError):
        misbehaviours.parse(value)


def test_every_misbehaviour_documents_what_a_correct_client_does():
    readme = (REPO / "README.md").read_text()
    for item in misbehaviours.REGISTRY:
        assert item.correct_client and item.what
        assert f"| `{item.name}" in readme, f"{item.name} is missing from the README's table"


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("https://app.example/cb", True),
        ("http://127.0.0.1:9/cb", True),
        ("http://localhost/cb", True),
        ("http://[::1]:8080/cb", True),
        ("http://app.example/cb", False),
        ("https://app.example/cb#frag", False),
        ("myapp://cb", False),
        ("/relative", False),
        (42, False),
    ],
)
def test_redirect_uri_policy(uri, ok):
    assert is_acceptable_redirect_uri(uri) is ok


def test_loopback():
    assert is_loopback("127.0.0.2") and is_loopback("[::1]") and is_loopback("LOCALHOST")
    assert not is_loopback("10.0.0.1") and not is_loopback("example.com")


def settings_error(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MCP_")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='echoserver.settings'; django.setup()",
        ],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MCP_AUTH": "embedded", "MCP_OAUTH_MISBEHAVIOURS": "deny,frobnicate"}, "MCP_OAUTH_MISBEHAVIOURS"),
        ({"MCP_AUTH": "embedded", "MCP_OAUTH_CODE_TTL": "3600"}, "MCP_OAUTH_CODE_TTL"),
        ({"MCP_AUTH": "embedded", "MCP_OAUTH_CONSENT": "maybe"}, "MCP_OAUTH_CONSENT"),
        ({"MCP_AUTH": "sometimes"}, "MCP_AUTH"),
    ],
)
def test_malformed_oauth_settings_stop_start_up_naming_the_variable(env, named, tmp_path):
    done = settings_error(MCP_DATA_DIR=str(tmp_path), **env)
    assert done.returncode != 0
    assert named in done.stderr.strip().splitlines()[-1]


def test_embedded_defaults(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='echoserver.settings'; django.setup();"
            "from django.conf import settings as s;"
            "print(s.MCP_RESOURCE_URL, s.MCP_OAUTH_ISSUER, s.MCP_JWT_ISSUER, s.MCP_AUTHORIZATION_SERVERS,"
            " s.MCP_REQUIRED_SCOPES)",
        ],
        cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("MCP_")},
            "MCP_AUTH": "embedded",
            "MCP_ECHO_PORT": "4321",
            "MCP_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "http://127.0.0.1:4321/mcp",
        "http://127.0.0.1:4321",
        "http://127.0.0.1:4321",
        "['http://127.0.0.1:4321']",
        "['mcp:tools']",
    ]


def info_with(claims: dict | None) -> RequestInfo:
    info = RequestInfo(http_method="POST", path="/mcp", headers={}, client_addr="127.0.0.1")
    info.auth = claims
    return info


def test_step_up_challenge_asks_for_granted_plus_step_up_scope(settings):
    settings.MCP_AUTH = "embedded"
    settings.MCP_RESOURCE_URL = "http://127.0.0.1:3000/mcp"
    settings.MCP_REQUIRED_SCOPES = ["mcp:tools"]
    settings.MCP_OAUTH_STEP_UP_SCOPE = "mcp:elevated"
    settings.MCP_OAUTH_STEP_UP_TOOLS = ["calculate"]
    claims = {"scope": "mcp:tools extra", "mcp_step_up_tools": ["echo"]}
    authz.check_step_up(info_with(claims), "bearerDecode")
    for tool in ("echo", "calculate"):
        with pytest.raises(Forbidden) as caught:
            authz.check_step_up(info_with(claims), tool)
        header = caught.value.headers["WWW-Authenticate"]
        assert header.startswith('Bearer error="insufficient_scope", scope="mcp:tools extra mcp:elevated"')
    authz.check_step_up(info_with({**claims, "scope": "mcp:tools mcp:elevated"}), "echo")
    settings.MCP_AUTH = "jwt"
    authz.check_step_up(info_with(claims), "echo")


@pytest.fixture
def proxied(settings):
    """Requests from 10.0.0.2 come through a trusted balancer."""
    from mcp.wire.peers import trusted_networks

    settings.MCP_TRUSTED_PROXIES = ["10.0.0.0/24"]
    trusted_networks.cache_clear()
    yield
    trusted_networks.cache_clear()


@pytest.mark.parametrize(
    ("peer", "forwarded", "counted_as"),
    [
        ("10.0.0.2", "203.0.113.7", "203.0.113.7"),  # through the balancer: the client it names
        ("10.0.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # nearest untrusted hop
        ("192.0.2.5", "203.0.113.7", "192.0.2.5"),  # not a proxy: its header is not believed
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_registrations_are_counted_per_client_behind_trusted_proxies(
    proxied, rf, peer, forwarded, counted_as
):
    from mcp.oauth import registrations

    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = rf.post("/oauth/register", REMOTE_ADDR=peer, **extra)
    assert registrations.client_address(request) == counted_as
