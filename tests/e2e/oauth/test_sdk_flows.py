"""MCP_AUTH=embedded with the official SDK clients: a whole OAuth flow against one real process.

The Python and TypeScript SDK clients, each in its own process with its own OAuth provider,
start from a bare 401, discover, register (dynamic registration, or a Client ID Metadata
Document), authorize (automatic consent), get a token, open a session bound to their subject,
call bearerDecode, refresh, and go on. Every misbehaviour is driven through both SDKs and the
test asserts what the client saw. The server runs with debug logging; its log is searched for
every secret issued.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.live import LiveServer
from tests.e2e.oauth.support import (
    ACCESS_TTL,
    SDKS,
    SEEN_SECRETS,
    check_no_secret_in_log,
    claim,
    db_rows,
    errors,
    sdk,
)
from tests.e2e.oauth_flow import (
    CALLBACK,
    INITIALIZE,
    Pkce,
    authorize,
    call_tool,
    exchange,
    mcp_post,
    redirect_params,
    refresh,
    register,
    tokens_for,
)

pytestmark = pytest.mark.e2e


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
    spent = refresh(http, outcome["clientId"], outcome["issued"][0]["refresh_token"])
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


# --- Last: nothing secret in the log ----------------------------------------------------------------


def test_zz_no_secret_reached_the_log(auth_server, http):
    check_no_secret_in_log(auth_server, http)
