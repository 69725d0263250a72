"""MCP_AUTH=embedded with a hand-driven client: what the SDKs cannot be made to do.

Client ID Metadata Documents over loopback http (accepted, cached, refused), PKCE and resource
refusals, code reuse, confidential clients with client credentials and revocation, the
consent page (as a form, and in headless Chromium), hostile input to every endpoint, the admin
(masked tokens, revocation that ends access and streams at once), and revocation across two
processes on one Redis.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.chromium import Browser
from tests.e2e.deps import REPO
from tests.e2e.live import HTTP_TIMEOUT, LiveServer, start_server
from tests.e2e.oauth.support import (
    SEEN_SECRETS,
    check_no_secret_in_log,
    claim,
    db_rows,
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
        cwd=REPO,
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
    refused = refresh(http, token["client_id"], token["refresh_token"])
    assert refused.status_code == 400
    for path in ("/admin/oauth/client/", "/admin/oauth/authorizationcode/", "/admin/oauth/token/"):
        page = http.get(path)
        assert page.status_code == 200, path
        assert token["access_token"] not in page.text and token["refresh_token"] not in page.text
    tokens_page = http.get("/admin/oauth/token/?q=admin-visible-user").text
    assert (
        "admin-visible-user" in tokens_page and "chars redacted" in tokens_page and "revoked" in tokens_page
    )


def test_a_revocation_on_one_node_is_refused_at_once_on_another(tmp_path, redis_url):
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
    check_no_secret_in_log(auth_server, http)
