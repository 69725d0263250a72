"""A hand-driven OAuth client for the embedded authorization server tests (raw HTTP, httpx).

Each step is one request a client makes, so a test can stop anywhere, change a parameter, and
look at exactly what came back. ``run_sdk`` runs one of the official SDK clients
(tests/e2e/clients/*/oauth_client.*) with a scenario and returns what it printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.deps import clean_env
from tests.e2e.live import LiveServer

CALLBACK = "http://127.0.0.1:9/callback"
SDK_TIMEOUT = 150.0
CLIENTS = Path(__file__).parent / "clients"


@dataclass
class Pkce:
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def register(http: httpx.Client, **metadata: Any) -> dict[str, Any]:
    body = {
        "client_name": "raw test client",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    response = http.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def authorize(
    http: httpx.Client, client_id: str, pkce: Pkce, *, state: str = "s-1", **extra: str
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "state": state,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "resource": str(http.base_url).rstrip("/") + "/mcp",
        "scope": "mcp:tools",
        **extra,
    }
    return http.get("/oauth/authorize", params={k: v for k, v in params.items() if v is not None})


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, f"{response.status_code} {response.text[:300]}"
    return {
        name: values[0] for name, values in parse_qs(urlsplit(response.headers["location"]).query).items()
    }


def exchange(http: httpx.Client, client_id: str, code: str, pkce: Pkce, **extra: str) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": client_id,
        "code_verifier": pkce.verifier,
        **extra,
    }
    return http.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


def refresh(http: httpx.Client, client_id: str, refresh_token: str, **extra: str) -> httpx.Response:
    """The refresh_token grant (``extra``: client_secret for a confidential client)."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, **extra}
    return http.post("/oauth/token", data=data)


def tokens_for(http: httpx.Client, subject: str = "alice", **register_extra: Any) -> dict[str, Any]:
    """Register, authorize (automatic consent) as ``subject``, exchange: the token response."""
    client = register(http, **register_extra)
    pkce = Pkce()
    params = redirect_params(authorize(http, client["client_id"], pkce, login_hint=subject))
    response = exchange(http, client["client_id"], params["code"], pkce)
    assert response.status_code == 200, response.text
    return {**response.json(), "client_id": client["client_id"]}


def mcp_post(
    http: httpx.Client, token: str | None, message: dict[str, Any], session: str | None = None
) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if session:
        headers["Mcp-Session-Id"] = session
    return http.post("/mcp", headers=headers, json=message)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}


def call_tool(name: str, arguments: dict[str, Any] | None = None, request_id: int = 2) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments or {}},
    }


def run_sdk(sdk: str, interpreter: Path, scenario: dict[str, Any], server: LiveServer) -> dict[str, Any]:
    """Run the ``sdk`` ("python" or "typescript") OAuth client; its JSON outcome."""
    if sdk == "python":
        script = CLIENTS / "python" / "oauth_client.py"
        command = [str(interpreter), "-I", str(script), json.dumps(scenario)]
    else:
        script = CLIENTS / "node" / "oauth_client.mjs"
        command = [str(interpreter), str(script), json.dumps(scenario)]
    done = subprocess.run(
        command,
        cwd=script.parent,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SDK_TIMEOUT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    report = f"exit {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert lines, f"{report}\nserver log:\n{server.log()}"
    return json.loads(lines[-1])
