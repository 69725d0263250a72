"""MCP_AUTH=embedded: a whole OAuth flow against one real server process.

The official Python and TypeScript SDK clients, each in its own process with its own OAuth
provider, start from a bare 401, discover, register, authorize (automatic consent), get a
token, open a session bound to their subject, call bearerDecode, refresh, and go on. Every
misbehaviour is driven through both SDKs and the test asserts what the client saw. A raw
client covers what the SDKs cannot be made to do (Client ID Metadata Documents over loopback
http, confidential clients, the consent page, PKCE and resource refusals), and the admin's
revocation. The server runs with debug logging; its log is searched for every secret issued.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import sqlite3
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.chromium import Browser
from tests.e2e.live import HTTP_TIMEOUT, LiveServer, start_server
from tests.e2e.oauth_flow import (
    CALLBACK,
    INITIALIZE,
    Pkce,
    authorize,
    call_tool,
    exchange,
    mcp_post,
    redirect_params,
    register,
    run_sdk,
    tokens_for,
)
from tests.redis_server import redis_url  # noqa: F401

pytestmark = pytest.mark.e2e

ACCESS_TTL = 6
LOOPBACK = "127.0.0.1"
SDKS = ["python", "typescript"]
# Every secret the tests saw issued; the last test looks for each in the server's log.
SEEN_SECRETS: set[str] = set()


class DocumentServer:
    """Serves Client ID Metadata Documents on 127.0.0.1 (a thread), counting fetches."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls else "http"
        self.documents: dict[str, Any] = {}
        self.fetches = 0
        self.callbacks: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/callback"):
                    # A client's redirect URI, for the browser test.
                    owner.callbacks.append(self.path)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"back at the client")
                    return
                owner.fetches += 1
                document = owner.documents.get(self.path)
                body = json.dumps(document).encode() if document is not None else b"{}"
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def documents() -> Iterator[DocumentServer]:
    server = DocumentServer()
    yield server
    server.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_documents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DocumentServer, Path]]:
    """Metadata documents over https (the SDKs accept only https client_id URLs)."""
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = DocumentServer(context)
    yield server, cert
    server.close()


@pytest.fixture(scope="module")
def auth_server(
    tmp_path_factory: pytest.TempPathFactory,
    documents: DocumentServer,
    tls_documents: tuple[DocumentServer, Path],
) -> Iterator[LiveServer]:
    tls_server, ca_file = tls_documents
    server = start_server(
        tmp_path_factory.mktemp("oauth"),
        {
            "MCP_AUTH": "embedded",
            "MCP_RESOURCE_URL": "http://127.0.0.1:{port}/mcp",
            "MCP_OAUTH_CONSENT": "auto",
            "MCP_OAUTH_ACCESS_TOKEN_TTL": str(ACCESS_TTL),
            "MCP_JWT_LEEWAY": "0",
            "MCP_OAUTH_CIMD_ALLOWED_HOSTS": f"127.0.0.1:{documents.port},127.0.0.1:{tls_server.port}",
            "MCP_OAUTH_CIMD_CA_FILE": str(ca_file),
            "MCP_ECHO_DEBUG": "true",
            "MCP_KEEPALIVE_INTERVAL": "0.3",
        },
    )
    yield server
    server.stop()


@pytest.fixture
def http(auth_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=auth_server.url, timeout=HTTP_TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def interpreters(python_sdk: Path, node_client: Path) -> dict[str, Path]:
    node = shutil.which("node")
    assert node, "node is not on PATH"
    return {"python": python_sdk, "typescript": Path(node)}


def db_rows(server: LiveServer, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.data_dir / "db.sqlite3", timeout=10) as db:
        return db.execute(query, args).fetchall()


def sdk(server: LiveServer, interpreters: dict[str, Path], name: str, **scenario: Any) -> dict[str, Any]:
    outcome = run_sdk(name, interpreters[name], {"url": server.mcp_url, **scenario}, server)
    for issued in outcome.get("issued", []):
        SEEN_SECRETS.update(value for key, value in issued.items() if key.endswith("token") and value)
    return outcome


def claim(text: str, label: str) -> str:
    match = re.search(rf"^\s*{label}: (.+)$", text, re.MULTILINE)
    assert match, f"no {label!r} in:\n{text}"
    return match.group(1).strip()


def errors(outcome: dict[str, Any]) -> str:
    return " | ".join(f"{item['type']}: {item['message']}" for item in outcome["error"] or [])


# --- The whole flow, with each SDK ----------------------------------------------------------------


def test_a_bare_request_gets_the_challenge_that_starts_discovery(auth_server: LiveServer, http: httpx.Client):
    response = mcp_post(http, None, INITIALIZE)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    prm_url = f"{auth_server.url}/.well-known/oauth-protected-resource/mcp"
    assert challenge == f'Bearer scope="mcp:tools", resource_metadata="{prm_url}"'
    prm = http.get(prm_url).json()
    assert prm["resource"] == auth_server.mcp_url
    assert prm["authorization_servers"] == [auth_server.url]
    metadata = http.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == auth_server.url
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["client_id_metadata_document_supported"] is True
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(
        metadata["grant_types_supported"]
    )
    jwks = http.get("/oauth/jwks.json").json()
    assert [key["kty"] for key in jwks["keys"]] == ["RSA"]
    assert not {"d", "p", "q"} & set(jwks["keys"][0])


@pytest.mark.parametrize("name", SDKS)
def test_sdk_client_runs_the_whole_flow_then_refreshes(auth_server, http, interpreters, name):
    subject = f"{name}-user"
    outcome = sdk(
        auth_server,
        interpreters,
        name,
        login_hint=subject,
        calls=[{"tool": "bearerDecode"}, {"sleep": ACCESS_TTL + 1.5}, {"tool": "bearerDecode"}],
    )
    assert outcome["error"] is None, errors(outcome)
    [authorization] = outcome["authorizations"]
    assert authorization["resource"] == auth_server.mcp_url
    assert authorization["scope"] == "mcp:tools"
    first, second = (result["texts"][0] for result in outcome["results"])
    for text in (first, second):
        assert claim(text, "Subject") == subject
        assert claim(text, "Issuer") == auth_server.url
        assert claim(text, "Audience") == auth_server.mcp_url
        assert "Signature: verified by this server" in text
    assert claim(first, "JWT ID") != claim(second, "JWT ID"), "the second call should carry a refreshed token"
    # Same session before and after the refresh.
    assert outcome["sessionId"] and outcome["finalSessionId"] == outcome["sessionId"]
    grants = [
        row[0]
        for row in db_rows(
            auth_server,
            "SELECT grant_type FROM oauth_token t JOIN oauth_client c "
            "ON t.client_id = c.id WHERE c.client_id = ? ORDER BY t.id",
            outcome["clientId"],
        )
    ]
    assert grants[0] == "authorization_code" and "refresh_token" in grants[1:], grants
    # The refreshed token rotated the refresh token: the first one is spent.
    assert outcome["issued"][0]["refresh_token"] != outcome["issued"][-1]["refresh_token"]
    spent = http.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": outcome["issued"][0]["refresh_token"],
            "client_id": outcome["clientId"],
        },
    )
    assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"
    # The session belongs to the subject: another subject's valid token cannot use it.
    other = tokens_for(http, subject="mallory")
    SEEN_SECRETS.update((other["access_token"], other["refresh_token"]))
    stolen = mcp_post(http, other["access_token"], call_tool("echo", {"message": "x"}), outcome["sessionId"])
    assert stolen.status_code == 404


@pytest.mark.parametrize("name", SDKS)
def test_sdk_client_registers_with_a_client_id_metadata_document(
    auth_server, interpreters, tls_documents, name
):
    """The SDK sees client_id_metadata_document_supported and uses its URL as client_id: no
    registration request; the server fetches the document (over https) and checks it."""
    server, _ = tls_documents
    path = f"/clients/{name}.json"
    url = server.url(path)
    server.documents[path] = {
        "client_id": url,
        "client_name": f"{name} SDK via metadata document",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    registered = db_rows(auth_server, "SELECT count(*) FROM oauth_client WHERE source = 'dcr'")
    outcome = sdk(
        auth_server,
        interpreters,
        name,
        login_hint=f"{name}-cimd",
        client_metadata_url=url,
        calls=[{"tool": "bearerDecode"}],
    )
    assert outcome["error"] is None, errors(outcome)
    assert outcome["clientId"] == url
    text = outcome["results"][0]["texts"][0]
    assert claim(text, "Subject") == f"{name}-cimd" and "Signature: verified by this server" in text
    assert f'client_id: "{url}"' in text
    assert db_rows(auth_server, "SELECT source, client_name FROM oauth_client WHERE client_id = ?", url) == [
        ("cimd", f"{name} SDK via metadata document")
    ]
    assert db_rows(auth_server, "SELECT count(*) FROM oauth_client WHERE source = 'dcr'") == registered


# --- Misbehaviours: what each SDK client sees ------------------------------------------------------


@pytest.mark.parametrize("name", SDKS)
def test_deny_ends_the_flow_without_a_token(auth_server, interpreters, name):
    outcome = sdk(
        auth_server,
        interpreters,
        name,
        login_hint="d",
        misbehave="deny",
        calls=[{"tool": "echo", "args": {"message": "x"}}],
    )
    assert "access_denied" in errors(outcome)
    assert [a["error"] for a in outcome["authorizations"]] == ["access_denied"]
    assert outcome["issued"] == [] and outcome["results"] == []


@pytest.mark.parametrize("name", SDKS)
def test_wrong_state_is_refused_by_the_client_and_the_code_never_redeemed(auth_server, interpreters, name):
    outcome = sdk(auth_server, interpreters, name, login_hint="ws", misbehave="wrong_state")
    assert re.search(r"state (parameter )?mismatch", errors(outcome), re.IGNORECASE), errors(outcome)
    [authorization] = outcome["authorizations"]
    assert authorization["has_code"] and not authorization["state_matches"]
    assert outcome["issued"] == []
    rows = db_rows(
        auth_server,
        "SELECT g.redeemed FROM oauth_authorizationcode g JOIN oauth_client c "
        "ON g.client_id = c.id WHERE c.client_id = ?",
        outcome["clientId"],
    )
    assert rows == [(None,)]


@pytest.mark.parametrize(
    ("name", "misbehave", "description"),
    [
        (sdk_name, misbehave, description)
        for sdk_name in SDKS
        for misbehave, description in (("invalid_code", "Invalid 'code'"), ("reused_code", "already used"))
    ],
)
def test_bad_codes_get_invalid_grant(auth_server, interpreters, name, misbehave, description):
    outcome = sdk(auth_server, interpreters, name, login_hint="c", misbehave=misbehave)
    assert "invalid_grant" in errors(outcome) or "InvalidGrantError" in errors(outcome), errors(outcome)
    assert description in errors(outcome)
    assert len(outcome["authorizations"]) == 1 and outcome["issued"] == []


@pytest.mark.parametrize("name", SDKS)
def test_wrong_audience_is_refused_by_the_server_and_the_client_stops(auth_server, interpreters, name):
    outcome = sdk(
        auth_server, interpreters, name, login_hint="wa", misbehave="wrong_audience", misbehave_times=0
    )
    assert "401" in errors(outcome), errors(outcome)
    assert outcome["results"] == []
    # Bounded: one authorization (a refresh at most), no loop.
    assert len(outcome["authorizations"]) == 1 and 1 <= len(outcome["issued"]) <= 2
    log = auth_server.log(200_000)
    assert "audience mismatch" in log


def test_expired_token_typescript_refreshes_and_goes_on(auth_server, interpreters):
    outcome = sdk(
        auth_server,
        interpreters,
        "typescript",
        login_hint="ex",
        misbehave="expired_token",
        calls=[{"tool": "echo", "args": {"message": "after refresh"}}],
    )
    assert outcome["error"] is None, errors(outcome)
    assert len(outcome["authorizations"]) == 1 and len(outcome["issued"]) == 2
    assert outcome["results"][0]["texts"][0].endswith("after refresh")


def test_expired_token_python_sdk_surfaces_the_401(auth_server, interpreters):
    """The Python SDK (1.30) retries once with the token it just got and reports the 401.

    A correct client would refresh; this is what the test makes visible.
    """
    outcome = sdk(auth_server, interpreters, "python", login_hint="ex", misbehave="expired_token")
    assert "401" in errors(outcome), errors(outcome)
    assert len(outcome["authorizations"]) == 1 and len(outcome["issued"]) == 1
    assert "the token has expired" in auth_server.log(200_000)


@pytest.mark.parametrize("name", SDKS)
def test_missing_scope_gets_403_insufficient_scope_and_the_client_stops(auth_server, interpreters, name):
    outcome = sdk(
        auth_server, interpreters, name, login_hint="ms", misbehave="missing_scope", misbehave_times=0
    )
    assert "403" in errors(outcome), errors(outcome)
    assert outcome["results"] == []
    assert len(outcome["authorizations"]) <= 2
    assert "lacks the required scope mcp:tools" in auth_server.log(200_000)


@pytest.mark.parametrize("name", SDKS)
def test_failing_refresh_makes_the_client_authorize_again(auth_server, interpreters, name):
    outcome = sdk(
        auth_server,
        interpreters,
        name,
        login_hint="rf",
        misbehave="refresh_fails",
        calls=[
            {"tool": "echo", "args": {"message": "one"}},
            {"sleep": ACCESS_TTL + 1.5},
            {"tool": "echo", "args": {"message": "two"}},
        ],
    )
    assert outcome["error"] is None, errors(outcome)
    assert [a["misbehave"] for a in outcome["authorizations"]] == ["refresh_fails", None]
    assert [r["texts"][0].rsplit(" ", 1)[-1] for r in outcome["results"]] == ["one", "two"]
    assert outcome["finalSessionId"] == outcome["sessionId"]


def test_step_up_python_sdk_reauthorizes_with_the_challenged_scope(auth_server, interpreters):
    outcome = sdk(
        auth_server,
        interpreters,
        "python",
        login_hint="su",
        misbehave="step_up:echo",
        misbehave_times=0,
        calls=[{"tool": "bearerDecode"}, {"tool": "echo", "args": {"message": "elevated"}}],
    )
    assert outcome["error"] is None, errors(outcome)
    assert [a["scope"] for a in outcome["authorizations"]] == ["mcp:tools", "mcp:tools mcp:elevated"]
    assert outcome["results"][1]["texts"][0].endswith("elevated")
    assert outcome["issued"][-1]["scope"] == "mcp:tools mcp:elevated"
    assert outcome["finalSessionId"] == outcome["sessionId"]


def test_step_up_typescript_sdk_refreshes_without_the_new_scope_and_gives_up(auth_server, interpreters):
    """TypeScript SDK 1.32.2 answers the 403 with a refresh, which cannot add a scope; it then
    stops with "403 after trying upscoping" (bounded, no loop). A correct client re-authorizes."""
    outcome = sdk(
        auth_server,
        interpreters,
        "typescript",
        login_hint="su",
        misbehave="step_up:echo",
        misbehave_times=0,
        calls=[{"tool": "bearerDecode"}, {"tool": "echo", "args": {"message": "elevated"}}],
    )
    assert "403" in errors(outcome), errors(outcome)
    assert len(outcome["results"]) == 1 and len(outcome["authorizations"]) == 1


def test_step_up_challenge_names_the_scopes_to_ask_for(auth_server, http):
    client = register(http)
    pkce = Pkce()
    code = redirect_params(authorize(http, client["client_id"], pkce, misbehave="step_up:echo"))["code"]
    token = exchange(http, client["client_id"], code, pkce).json()
    SEEN_SECRETS.update((token["access_token"], token["refresh_token"], code))
    session = mcp_post(http, token["access_token"], INITIALIZE).headers["mcp-session-id"]
    assert mcp_post(http, token["access_token"], call_tool("bearerDecode"), session).status_code == 200
    refused = mcp_post(http, token["access_token"], call_tool("echo", {"message": "x"}), session)
    assert refused.status_code == 403
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith(
        'Bearer error="insufficient_scope", scope="mcp:tools mcp:elevated", resource_metadata='
    )


# --- A raw client: what the SDKs cannot be made to do -------------------------------------------------


def test_client_id_metadata_document_from_an_allowed_host(auth_server, http, documents):
    url = documents.url("/clients/raw.json")
    documents.documents["/clients/raw.json"] = {
        "client_id": url,
        "client_name": "Metadata document client",
        "redirect_uris": [CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    }
    pkce = Pkce()
    params = redirect_params(authorize(http, url, pkce, login_hint="cimd-user"))
    assert params["iss"] == auth_server.url and params["state"] == "s-1"
    response = exchange(http, url, params["code"], pkce)
    assert response.status_code == 200, response.text
    token = response.json()
    SEEN_SECRETS.update((token["access_token"], token["refresh_token"]))
    init = mcp_post(http, token["access_token"], INITIALIZE)
    assert init.status_code == 200
    fetches = documents.fetches
    # Cached: a second authorization does not fetch again.
    redirect_params(authorize(http, url, Pkce()))
    assert documents.fetches == fetches
    # A redirect URI the document does not list is shown as an error page, never redirected to.
    refused = authorize(http, url, Pkce(), redirect_uri="http://127.0.0.1:9/elsewhere")
    assert refused.status_code == 400 and "location" not in refused.headers


@pytest.mark.parametrize(
    ("path", "document", "reason"),
    [
        (
            "/clients/mismatch.json",
            {"client_id": "http://127.0.0.1:1/other.json", "client_name": "x", "redirect_uris": [CALLBACK]},
            "does not equal its URL",
        ),
        (
            "/clients/secret.json",
            {
                "client_name": "x",
                "redirect_uris": [CALLBACK],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            "public clients only",
        ),
        ("/clients/missing.json", None, "HTTP 404"),
    ],
)
def test_bad_client_id_metadata_documents_are_refused(http, documents, path, document, reason):
    url = documents.url(path)
    if document is not None:
        documents.documents[path] = {"client_id": url, **document}
    response = authorize(http, url, Pkce())
    assert response.status_code == 400 and "location" not in response.headers
    assert reason in response.text


def test_client_id_metadata_documents_only_from_allowed_hosts(http, documents):
    before = documents.fetches
    response = authorize(http, f"http://localhost:{documents.port}/clients/raw.json", Pkce())
    assert response.status_code == 400
    assert "MCP_OAUTH_CIMD_ALLOWED_HOSTS" in response.text
    assert documents.fetches == before, "a host that is not allowed must never be fetched"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"resource": "https://other.example/mcp"}, "invalid_target"),
        ({"misbehave": "no_such_thing"}, "invalid_request"),
    ],
)
def test_authorization_request_refusals_go_back_to_the_client(http, change, error):
    client = register(http)
    params = redirect_params(authorize(http, client["client_id"], Pkce(), state="keep-me", **change))
    assert params["error"] == error and params["state"] == "keep-me"
    assert params["iss"] == str(http.base_url).rstrip("/"), "RFC 9207: the issuer in every response"
    assert "code" not in params


def test_wrong_code_verifier_and_resource_at_the_token_endpoint(http):
    client = register(http)
    pkce = Pkce()
    code = redirect_params(authorize(http, client["client_id"], pkce))["code"]
    wrong = exchange(http, client["client_id"], code, Pkce(), resource=None)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    pkce2 = Pkce()
    code2 = redirect_params(authorize(http, client["client_id"], pkce2))["code"]
    target = exchange(http, client["client_id"], code2, pkce2, resource="https://other.example/mcp")
    assert target.status_code == 400 and target.json()["error"] == "invalid_target"


def test_a_redeemed_code_used_again_revokes_what_it_issued(http):
    client = register(http)
    pkce = Pkce()
    code = redirect_params(authorize(http, client["client_id"], pkce))["code"]
    first = exchange(http, client["client_id"], code, pkce)
    assert first.status_code == 200
    token = first.json()["access_token"]
    SEEN_SECRETS.update((token, first.json()["refresh_token"], code))
    assert mcp_post(http, token, INITIALIZE).status_code == 200
    again = exchange(http, client["client_id"], code, pkce)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    refused = mcp_post(http, token, INITIALIZE)
    assert refused.status_code == 401 and "revoked" in refused.headers["www-authenticate"]


def test_confidential_client_credentials_and_revocation(http):
    client = register(
        http,
        client_name="machine",
        grant_types=["client_credentials"],
        redirect_uris=[],
        token_endpoint_auth_method="client_secret_basic",
    )
    secret = client["client_secret"]
    SEEN_SECRETS.add(secret)
    refused = http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client["client_id"], "wrong")
    )
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    response = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "mcp:tools"},
        auth=(client["client_id"], secret),
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert "refresh_token" not in token
    SEEN_SECRETS.add(token["access_token"])
    init = mcp_post(http, token["access_token"], INITIALIZE)
    assert init.status_code == 200
    session = init.headers["mcp-session-id"]
    who = mcp_post(http, token["access_token"], call_tool("authContext"), session).json()
    assert f"Subject: {client['client_id']}" in who["result"]["content"][0]["text"]
    revoked = http.post(
        "/oauth/revoke", data={"token": token["access_token"]}, auth=(client["client_id"], secret)
    )
    assert revoked.status_code == 200
    after = mcp_post(http, token["access_token"], call_tool("echo", {"message": "x"}), session)
    assert after.status_code == 401 and "revoked" in after.headers["www-authenticate"]


def test_consent_page_approves_in_a_browser_form(auth_server, http):
    client = register(http, client_name="Consent Page Client")
    pkce = Pkce()
    page = authorize(http, client["client_id"], pkce, prompt="consent", misbehave="wrong_state")
    assert page.status_code == 200
    html = page.text
    assert "Consent Page Client" in html and "127.0.0.1" in html
    assert 'value="wrong_state" checked' in html
    assert "localhost" in html  # the warning for loopback-only redirect URIs
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    form = {"csrfmiddlewaretoken": csrf, "subject": "form-user", "decision": "approve", "misbehave": []}
    approved = http.post(str(page.url), data=form, headers={"Referer": str(page.url)})
    params = redirect_params(approved)
    assert params["state"] == "s-1", "unticking the box on the page removes the misbehaviour"
    token = exchange(http, client["client_id"], params["code"], pkce).json()
    SEEN_SECRETS.update((token["access_token"], token["refresh_token"], params["code"]))
    init = mcp_post(http, token["access_token"], INITIALIZE)
    session = init.headers["mcp-session-id"]
    decoded = mcp_post(http, token["access_token"], call_tool("bearerDecode"), session).json()
    assert claim(decoded["result"]["content"][0]["text"], "Subject") == "form-user"
    denied = http.post(
        str(authorize(http, client["client_id"], Pkce(), prompt="consent").url),
        data={**form, "decision": "deny"},
        headers={"Referer": str(page.url)},
    )
    assert redirect_params(denied)["error"] == "access_denied"


JSON = {"Content-Type": "application/json"}
HOSTILE = {
    "register: not JSON": ("POST", "/oauth/register", {"content": b"not json", "headers": JSON}),
    "register: a list": ("POST", "/oauth/register", {"content": b"[1,2]", "headers": JSON}),
    "register: nested 5000 deep": (
        "POST",
        "/oauth/register",
        {"content": b"[" * 5000 + b"]" * 5000, "headers": JSON},
    ),
    "register: redirect_uris of numbers": ("POST", "/oauth/register", {"json": {"redirect_uris": [1, 2]}}),
    "register: scope a number": (
        "POST",
        "/oauth/register",
        {"json": {"redirect_uris": [CALLBACK], "scope": 42}},
    ),
    "register: auth method a list": (
        "POST",
        "/oauth/register",
        {"json": {"redirect_uris": [CALLBACK], "token_endpoint_auth_method": ["none"]}},
    ),
    "register: name an object": (
        "POST",
        "/oauth/register",
        {"json": {"redirect_uris": [CALLBACK], "client_name": {}}},
    ),
    "register: http redirect off loopback": (
        "POST",
        "/oauth/register",
        {"json": {"redirect_uris": ["http://a.example/cb"]}},
    ),
    "register: custom scheme redirect": (
        "POST",
        "/oauth/register",
        {"json": {"redirect_uris": ["myapp://cb"]}},
    ),
    "token: empty": ("POST", "/oauth/token", {"data": {}}),
    "token: undecodable form": (
        "POST",
        "/oauth/token",
        {"content": b"\xff\xfe=\x00", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ),
    "token: bad basic auth": (
        "POST",
        "/oauth/token",
        {"data": {"grant_type": "client_credentials"}, "headers": {"Authorization": "Basic !!!"}},
    ),
    "token: password grant": ("POST", "/oauth/token", {"data": {"grant_type": "password", "username": "a"}}),
    "token: unknown URL client": (
        "POST",
        "/oauth/token",
        {"data": {"grant_type": "authorization_code", "client_id": "http://127.0.0.1:1/x.json", "code": "y"}},
    ),
    "revoke: unknown client": ("POST", "/oauth/revoke", {"data": {"token": "a.b.c", "client_id": "nope"}}),
    "authorize: nothing": ("GET", "/oauth/authorize", {}),
    "authorize: broken URL client": (
        "GET",
        "/oauth/authorize",
        {"params": {"client_id": "http://[::1", "response_type": "code"}},
    ),
    "authorize: port out of range": (
        "GET",
        "/oauth/authorize",
        {"params": {"client_id": "http://127.0.0.1:99999/x", "response_type": "code"}},
    ),
    "authorize: control characters": (
        "GET",
        "/oauth/authorize",
        {"params": {"client_id": "\x00\x01", "response_type": "code"}},
    ),
    "authorize: two client ids": (
        "GET",
        "/oauth/authorize",
        {"params": [("client_id", "a"), ("client_id", "b")]},
    ),
    "metadata: POST": ("POST", "/.well-known/oauth-authorization-server", {}),
    "token: GET": ("GET", "/oauth/token", {}),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_to_the_authorization_server_is_a_clean_4xx(auth_server, http, name):
    method, path, options = HOSTILE[name]
    response = http.request(method, path, **options)
    assert 400 <= response.status_code < 500, f"{response.status_code} {response.text[:300]}"
    assert "Traceback" not in response.text
    if path != "/oauth/authorize":
        assert response.headers.get("allow") or response.json().get("error"), response.text[:300]
    assert http.get("/health").status_code == 200


def test_consent_page_in_a_real_browser(auth_server, http, documents):
    """Headless Chromium loads the page, the user changes the subject and clicks Approve; the
    browser lands on the client's redirect URI with a code that redeems for that subject."""
    callback = documents.url("/callback")
    client = register(http, client_name="Browser Client", redirect_uris=[callback])
    pkce = Pkce()
    url = str(
        httpx.URL(
            f"{auth_server.url}/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": callback,
                "state": "browser-state",
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
                "scope": "mcp:tools",
                "resource": auth_server.mcp_url,
                "prompt": "consent",
            },
        )
    )
    browser = Browser()
    try:
        browser.navigate(url)
        browser.wait_for("document.querySelector('button.approve') !== null")
        shown = browser.evaluate("document.body.innerText")
        assert "Browser Client" in shown and "Sends you back to" in shown
        browser.evaluate("document.querySelector('input[name=subject]').value = 'browser-user'")
        browser.evaluate("document.querySelector('button.approve').click()")
        landed = browser.wait_for(f"location.href.startsWith({callback!r}) && location.href")
    finally:
        browser.close()
    params = {name: values[0] for name, values in parse_qs(urlsplit(landed).query).items()}
    assert params["state"] == "browser-state" and documents.callbacks
    token = exchange(http, client["client_id"], params["code"], pkce, redirect_uri=callback).json()
    SEEN_SECRETS.update((token["access_token"], token["refresh_token"], params["code"]))
    session = mcp_post(http, token["access_token"], INITIALIZE).headers["mcp-session-id"]
    decoded = mcp_post(http, token["access_token"], call_tool("bearerDecode"), session).json()
    assert claim(decoded["result"]["content"][0]["text"], "Subject") == "browser-user"


# --- The admin --------------------------------------------------------------------------------------


def admin_login(server: LiveServer, http: httpx.Client) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "createsuperuser",
            "--noinput",
            "--username",
            "admin",
            "--email",
            "admin@example.com",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env={**server.env, "DJANGO_SUPERUSER_PASSWORD": "admin-password-for-tests"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 or "already taken" in done.stderr, done.stderr[-2000:]
    page = http.get("/admin/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    login = http.post(
        "/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": csrf, "username": "admin", "password": "admin-password-for-tests"},
        headers={"Referer": f"{server.url}/admin/login/"},
    )
    assert login.status_code == 302, login.text[:500]


def test_admin_lists_clients_grants_tokens_masked_and_revokes_at_once(auth_server, http):
    admin_login(auth_server, http)
    listing = http.get("/admin/oauth/token/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing.text).group(1)
    # Within the token's short life (ACCESS_TTL) from here to the revocation.
    token = tokens_for(http, subject="admin-visible-user")
    SEEN_SECRETS.update((token["access_token"], token["refresh_token"]))
    session = mcp_post(http, token["access_token"], INITIALIZE).headers["mcp-session-id"]
    [(pk,)] = db_rows(auth_server, "SELECT id FROM oauth_token WHERE subject = ?", "admin-visible-user")
    action = http.post(
        "/admin/oauth/token/",
        data={"csrfmiddlewaretoken": csrf, "action": "revoke_tokens", "_selected_action": [str(pk)]},
        headers={"Referer": f"{auth_server.url}/admin/oauth/token/"},
    )
    assert action.status_code == 302
    after = mcp_post(http, token["access_token"], call_tool("echo", {"message": "x"}), session)
    assert after.status_code == 401 and "revoked" in after.headers["www-authenticate"]
    refresh = http.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": token["client_id"],
        },
    )
    assert refresh.status_code == 400
    for path in ("/admin/oauth/client/", "/admin/oauth/authorizationcode/", "/admin/oauth/token/"):
        page = http.get(path)
        assert page.status_code == 200, path
        assert token["access_token"] not in page.text and token["refresh_token"] not in page.text
    tokens_page = http.get("/admin/oauth/token/?q=admin-visible-user").text
    assert (
        "admin-visible-user" in tokens_page and "chars redacted" in tokens_page and "revoked" in tokens_page
    )


def test_a_revocation_on_one_node_is_refused_at_once_on_another(tmp_path, redis_url):  # noqa: F811
    """Two processes on one database and one Redis: the revocation check crosses processes, and
    the GET stream that node B holds open for the token ends too."""
    resource = "http://127.0.0.1:1/mcp"
    env = {
        "MCP_AUTH": "embedded",
        "MCP_RESOURCE_URL": resource,
        "MCP_OAUTH_CONSENT": "auto",
        "REDIS_URL": redis_url,
        "MCP_REDIS_PREFIX": f"oauth-{tmp_path.name[-12:]}",
        "MCP_KEEPALIVE_INTERVAL": "0.3",
    }
    nodes = [start_server(tmp_path, env), start_server(tmp_path, env)]
    try:
        with (
            httpx.Client(base_url=nodes[0].url, timeout=HTTP_TIMEOUT) as a,
            httpx.Client(base_url=nodes[1].url, timeout=HTTP_TIMEOUT) as b,
        ):
            client = register(a)
            pkce = Pkce()
            code = redirect_params(authorize(a, client["client_id"], pkce, resource=resource))["code"]
            token = exchange(a, client["client_id"], code, pkce, resource=resource).json()
            SEEN_SECRETS.update((token["access_token"], token["refresh_token"], code))
            init = mcp_post(b, token["access_token"], INITIALIZE)
            assert init.status_code == 200, init.text
            session = init.headers["mcp-session-id"]
            with open_stream(b, token["access_token"], session) as stream:
                assert stream.status_code == 200
                chunks = stream.iter_bytes()
                assert next(chunks)
                revoked = a.post(
                    "/oauth/revoke", data={"token": token["access_token"], "client_id": client["client_id"]}
                )
                assert revoked.status_code == 200
                started = time.monotonic()
                for _ in chunks:  # keep-alives until the stream ends (the read timeout bounds it)
                    assert time.monotonic() - started < 20, "the stream outlived its revoked token"
            assert "closed: the token that opened it was revoked" in nodes[1].log(100_000)
            after = mcp_post(b, token["access_token"], call_tool("echo", {"message": "x"}), session)
            assert after.status_code == 401 and "revoked" in after.headers["www-authenticate"]
    finally:
        for node in nodes:
            node.stop()


def open_stream(http: httpx.Client, token: str, session: str) -> Any:
    headers = {
        "Accept": "text/event-stream",
        "Authorization": f"Bearer {token}",
        "Mcp-Session-Id": session,
        "MCP-Protocol-Version": "2025-11-25",
    }
    return http.stream("GET", "/mcp", headers=headers)


# --- Last: nothing secret in the log ----------------------------------------------------------------


def test_zz_no_secret_reached_the_log(auth_server, http):
    """Every token, refresh token, code and client secret the tests saw (this one's own too)."""
    client = register(http, token_endpoint_auth_method="client_secret_post")
    pkce = Pkce()
    code = redirect_params(authorize(http, client["client_id"], pkce))["code"]
    token = exchange(http, client["client_id"], code, pkce, client_secret=client["client_secret"]).json()
    refreshed = http.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
    ).json()
    mcp_post(http, refreshed["access_token"] + "x", INITIALIZE)  # refused: its text must not be logged either
    SEEN_SECRETS.update(
        (
            client["client_secret"],
            code,
            token["access_token"],
            token["refresh_token"],
            refreshed["access_token"],
            refreshed["refresh_token"],
        )
    )
    log = auth_server.log(10_000_000)
    assert "authorization approved" in log, "the server log is the debug-level log of this module's flows"
    leaked = [secret[:6] + "…" for secret in SEEN_SECRETS if secret and secret in log]
    assert not leaked, f"{len(leaked)} secrets appear in the server log: {leaked}"
