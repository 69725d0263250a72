"""The embedded authorization server under abuse: reused refresh tokens, registration floods,
oversized and malformed bodies, and a metadata-document host that drips its answer.

Each test starts from what an attacker sends and asserts what every client then sees (status,
OAuth error body, whether tokens still work) and what the operator's log says.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.live import HTTP_TIMEOUT, LiveServer, start_server
from tests.e2e.oauth_flow import (
    CALLBACK,
    INITIALIZE,
    Pkce,
    authorize,
    mcp_post,
    refresh,
    register,
    tokens_for,
)

pytestmark = pytest.mark.e2e

PER_ADDRESS = 4
MAX_BODY = 16 * 1024


class DrippingHost:
    """A loopback HTTP host that answers one byte per second, for ever."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 10_000:
                if self.stopped.wait(1.0):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.fixture(scope="module")
def drip() -> Iterator[DrippingHost]:
    host = DrippingHost()
    yield host
    host.close()


def embedded(tmp_path_factory: pytest.TempPathFactory, **env: str) -> LiveServer:
    return start_server(
        tmp_path_factory.mktemp("oauth-abuse"),
        {
            "MCP_AUTH": "embedded",
            "MCP_RESOURCE_URL": "http://127.0.0.1:{port}/mcp",
            "MCP_OAUTH_CONSENT": "auto",
            "MCP_OAUTH_MAX_BODY_BYTES": str(MAX_BODY),
            **env,
        },
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, drip: DrippingHost) -> Iterator[LiveServer]:
    live = embedded(
        tmp_path_factory,
        MCP_OAUTH_REGISTRATIONS_PER_ADDRESS=str(PER_ADDRESS),
        MCP_OAUTH_CIMD_ALLOWED_HOSTS=f"127.0.0.1:{drip.port}",
    )
    yield live
    live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT) as client:
        yield client


def test_a_reused_refresh_token_revokes_its_whole_grant(http):
    """RFC 9700 section 4.14.2: the legitimate holder and the thief each hold one refresh token
    of the family; presenting the rotated one ends both (access and refresh tokens)."""
    first = tokens_for(http, subject="refresh-victim")
    rotated = refresh(http, first["client_id"], first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    newer = rotated.json()
    assert mcp_post(http, newer["access_token"], INITIALIZE).status_code == 200

    reused = refresh(http, first["client_id"], first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert "revoked" in reused.json()["error_description"]

    after = refresh(http, first["client_id"], newer["refresh_token"])
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant", after.text
    refused = mcp_post(http, newer["access_token"], INITIALIZE)
    assert refused.status_code == 401 and "revoked" in refused.headers["www-authenticate"]


def registration(index: int) -> dict[str, object]:
    return {
        "client_name": f"flood {index}",
        "redirect_uris": [CALLBACK],
        "token_endpoint_auth_method": "none",
    }


def test_registrations_per_address_are_limited_with_an_oauth_429(server, http):
    # The refresh test may have registered one client from this address already.
    answers = [http.post("/oauth/register", json=registration(i)) for i in range(PER_ADDRESS + 2)]
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(201) <= PER_ADDRESS and statuses[-1] == 429, statuses
    refused = answers[-1]
    assert refused.json()["error"] == "temporarily_unavailable"
    assert "MCP_OAUTH_REGISTRATIONS_PER_ADDRESS" in refused.json()["error_description"]
    assert int(refused.headers["retry-after"]) >= 1
    assert "ERROR" not in server.log(100_000)


def test_registered_clients_in_total_are_limited(tmp_path_factory):
    live = embedded(tmp_path_factory, MCP_OAUTH_MAX_CLIENTS="2")
    try:
        with httpx.Client(base_url=live.url, timeout=HTTP_TIMEOUT) as client:
            statuses = [client.post("/oauth/register", json=registration(i)).status_code for i in range(3)]
            assert statuses == [201, 201, 429]
            refused = client.post("/oauth/register", json=registration(9))
            assert refused.json()["error"] == "temporarily_unavailable"
            assert "MCP_OAUTH_MAX_CLIENTS" in refused.json()["error_description"]
    finally:
        live.stop()


def chunks(total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * 65536
        sent += 65536


@pytest.mark.parametrize(
    ("path", "options", "status"),
    [
        pytest.param(
            "/oauth/register",
            {
                "content": b'{"client_name": "' + b"x" * 2_500_000 + b'"}',
                "headers": {"Content-Type": "application/json"},
            },
            413,
            id="register 2.5 MB",
        ),
        pytest.param(
            "/oauth/register",
            {"content": chunks(2_500_000), "headers": {"Content-Type": "application/json"}},
            413,
            id="register 2.5 MB chunked",
        ),
        pytest.param(
            "/oauth/token",
            {
                "content": b"&".join(b"f%d=1" % i for i in range(1500)),
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            400,
            id="token 1500 form fields",
        ),
        pytest.param(
            "/oauth/revoke",
            {
                "content": b"token=" + b"a" * 100_000,
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            413,
            id="revoke 100 KB",
        ),
    ],
)
def test_oversized_and_malformed_bodies_get_oauth_json_errors_logged_below_error(
    server, http, path, options, status
):
    before = len(server.log(10_000_000))
    answer = http.post(path, **options)
    assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"] == "invalid_request"
    assert answer.headers["cache-control"] == "no-store"
    time.sleep(0.2)
    logged = server.log(10_000_000)[before:]
    assert "ERROR" not in logged and "Traceback" not in logged, logged[-2000:]
    assert http.get("/health").status_code == 200


@pytest.mark.parametrize("size", [100_000, 3_000_000])
def test_an_oversized_consent_form_gets_an_oauth_json_error_logged_below_error(tmp_path_factory, size):
    """The consent page's own form (a valid CSRF token and cookie), grown past
    MCP_OAUTH_MAX_BODY_BYTES: 413 and an OAuth JSON error, not Django's HTML page."""
    live = embedded(tmp_path_factory, MCP_OAUTH_CONSENT="page")
    try:
        with httpx.Client(base_url=live.url, timeout=HTTP_TIMEOUT) as http:
            client = register(http, client_name="Oversized Form Client")
            page = authorize(http, client["client_id"], Pkce())
            assert page.status_code == 200, page.text[:300]
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            form = {"csrfmiddlewaretoken": csrf, "decision": "approve", "subject": "a" * size}
            answer = http.post(str(page.url), data=form, headers={"Referer": str(page.url)})
            assert answer.status_code == 413, answer.text[:300]
            assert answer.json()["error"] == "invalid_request"
            assert "MCP_OAUTH_MAX_BODY_BYTES" in answer.json()["error_description"]
            time.sleep(0.2)
            logged = live.log(10_000_000)
            assert "ERROR" not in logged and "Traceback" not in logged, logged[-2000:]
            assert http.get("/health").status_code == 200
    finally:
        live.stop()


def test_a_dripping_metadata_document_host_is_given_up_on_within_the_deadline(server, http, drip):
    client_id = f"http://127.0.0.1:{drip.port}/clients/slow.json"
    started = time.monotonic()
    answer = authorize(http, client_id, Pkce())
    elapsed = time.monotonic() - started
    assert answer.status_code == 400 and "location" not in answer.headers
    assert elapsed < 8, f"the authorization endpoint was held {elapsed:.1f} s"
    assert "was not fetched within" in server.log(100_000)
