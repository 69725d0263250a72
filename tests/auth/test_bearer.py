"""MCP_AUTH=jwt: bearer verification, challenges, Protected Resource Metadata, the whole flow."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mcp.auth import bearer as auth
from mcp.auth.bearer import (
    authenticate,
)
from mcp.auth.config import protected_resource_metadata, resource_metadata_url
from mcp.errors import Forbidden, ServiceUnavailable, Unauthorized
from mcp.wire.request import RequestInfo
from mcp.wire.uri import canonical_uri
from tests.support.client import McpClient, messages_of
from tests.support.tokens import ISSUER, PRM_URL, RESOURCE, b64, claims, hs_token, raw_token


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def request_with(authorization: str | None) -> RequestInfo:
    headers = {} if authorization is None else {"authorization": authorization}
    return RequestInfo(http_method="POST", path="/mcp", headers=headers, client_addr="127.0.0.1")


async def verified(token: str) -> RequestInfo:
    info = request_with(f"Bearer {token}")
    await authenticate(info)
    return info


async def refused(token: str, kind: type[Exception] = Unauthorized) -> Any:
    with pytest.raises(kind) as caught:
        await verified(token)
    assert token not in caught.value.message
    assert all(token not in value for value in caught.value.headers.values())
    return caught.value


def challenge_params(header: str) -> dict[str, str]:
    assert header.startswith("Bearer ")
    return {
        name: value.replace('\\"', '"')
        for name, value in re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', header[len("Bearer ") :])
    }


# --- Settings ------------------------------------------------------------------------------


@pytest.fixture
def public_key_mode(jwt_mode, tmp_path):
    """Only a public key configured (no secret); call with the private key whose half to trust."""

    def configure(private_key: Any) -> None:
        path = tmp_path / "public.pem"
        path.write_bytes(public_pem(private_key))
        jwt_mode.MCP_JWT_SECRET = None
        jwt_mode.MCP_JWT_PUBLIC_KEY_FILE = str(path)

    return configure


# --- The challenge and the metadata --------------------------------------------------------


async def test_auth_none_is_a_no_op(settings):
    settings.MCP_AUTH = "none"
    info = request_with(None)
    await authenticate(info)
    assert info.principal is None and info.auth is None


async def test_missing_token_gets_401_with_resource_metadata_and_no_error_code(jwt_mode):
    with pytest.raises(Unauthorized) as caught:
        await authenticate(request_with(None))
    assert caught.value.status == 401
    assert caught.value.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{PRM_URL}"'


@pytest.mark.parametrize("authorization", ["Basic YWxpY2U6cHc=", "Token abc", "", "   "])
async def test_other_schemes_count_as_no_token(jwt_mode, authorization):
    with pytest.raises(Unauthorized) as caught:
        await authenticate(request_with(authorization))
    assert "error=" not in caught.value.headers["WWW-Authenticate"]


async def test_challenge_names_required_scopes(jwt_mode):
    jwt_mode.MCP_REQUIRED_SCOPES = ["mcp:tools", "mcp:admin"]
    with pytest.raises(Unauthorized) as caught:
        await authenticate(request_with(None))
    params = challenge_params(caught.value.headers["WWW-Authenticate"])
    assert params == {"scope": "mcp:tools mcp:admin", "resource_metadata": PRM_URL}


async def test_prm_url_comes_from_configuration_not_from_headers(jwt_mode):
    jwt_mode.MCP_RESOURCE_URL = "https://mcp.example.org/mcp"
    info = request_with(None)
    info.headers.update({"host": "evil.example", "x-forwarded-host": "evil.example"})
    with pytest.raises(Unauthorized) as caught:
        await authenticate(info)
    params = challenge_params(caught.value.headers["WWW-Authenticate"])
    assert params["resource_metadata"] == "https://mcp.example.org/.well-known/oauth-protected-resource/mcp"


def test_resource_metadata_url_follows_rfc_9728():
    assert resource_metadata_url(RESOURCE) == PRM_URL
    assert (
        resource_metadata_url("https://a.example/")
        == "https://a.example/.well-known/oauth-protected-resource"
    )


def test_protected_resource_metadata_document(jwt_mode):
    jwt_mode.MCP_REQUIRED_SCOPES = ["mcp:tools"]
    document = protected_resource_metadata()
    assert document["resource"] == RESOURCE
    assert document["authorization_servers"] == [ISSUER]
    assert document["scopes_supported"] == ["mcp:tools"]
    assert document["bearer_methods_supported"] == ["header"]
    assert document["resource_name"]
    jwt_mode.MCP_REQUIRED_SCOPES = []
    assert "scopes_supported" not in protected_resource_metadata()


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
)
async def test_prm_is_served_at_both_well_known_paths(jwt_mode, http, path):
    response = await http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "max-age=3600"
    assert response.json()["resource"] == RESOURCE
    assert response.json()["authorization_servers"] == [ISSUER]


async def test_prm_is_404_json_without_auth(settings, http):
    settings.MCP_AUTH = "none"
    response = await http.get("/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_prm_refuses_post(jwt_mode, http):
    response = await http.post("/.well-known/oauth-protected-resource/mcp", content=b"{}")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


# --- Valid tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_valid_token_sets_principal_and_claims(jwt_mode, scheme):
    token = hs_token()
    info = request_with(f"{scheme} {token}")
    await authenticate(info)
    assert info.principal == "alice"
    assert info.auth is not None and info.auth["aud"] == RESOURCE
    assert token not in info.principal


async def test_client_id_is_the_principal_without_sub(jwt_mode):
    info = await verified(hs_token(sub=None, client_id="machine-7"))
    assert info.principal == "client:machine-7"


@pytest.mark.parametrize("sub", [None, ""])
async def test_a_client_id_principal_never_collides_with_a_user(jwt_mode, http, sub):
    """A token with no (or an empty) sub and client_id "alice" is not the user "alice": it
    cannot use alice's session."""
    alice = McpClient(http, extra_headers={"Authorization": f"Bearer {hs_token(sub='alice')}"})
    await alice.initialize()
    claims = {"client_id": "alice", "sub": sub}
    intruder = await verified(hs_token(**claims))
    assert intruder.principal == "client:alice"
    headers = {"Authorization": f"Bearer {hs_token(**claims)}", "Mcp-Session-Id": alice.session_id}
    answer = await alice.request("ping", **headers)
    assert answer.status_code == 404


async def test_no_subject_at_all_is_refused(jwt_mode):
    await refused(hs_token(sub=None))


async def test_leeway_admits_a_just_expired_token(jwt_mode):
    await verified(hs_token(exp=int(time.time()) - 10))
    jwt_mode.MCP_JWT_LEEWAY = 0
    await refused(hs_token(exp=int(time.time()) - 10))


@pytest.mark.parametrize(
    "audience",
    [
        RESOURCE,
        [RESOURCE],
        ["https://other.example/api", RESOURCE],
        "HTTP://127.0.0.1:3000/mcp",
        "http://127.0.0.1:3000/mcp#fragment",
    ],
)
async def test_audience_naming_this_resource_is_accepted(jwt_mode, audience):
    await verified(hs_token(aud=audience))


def test_canonical_uri():
    assert canonical_uri("HTTPS://MCP.Example.COM:443/Mcp#x") == "https://mcp.example.com/Mcp"
    assert canonical_uri("https://mcp.example.com") == "https://mcp.example.com/"
    assert canonical_uri("api://echo") == "api://echo"
    assert canonical_uri("not a url") == "not a url"


async def test_configured_audience_overrides_the_resource_url(jwt_mode):
    jwt_mode.MCP_JWT_AUDIENCE = "api://echo-server"
    await verified(hs_token(aud="api://echo-server"))
    await refused(hs_token(aud=RESOURCE))


async def test_issuer_is_not_checked_when_unset(jwt_mode):
    jwt_mode.MCP_JWT_ISSUER = None
    await verified(hs_token(iss="https://anyone.example"))


async def test_scope_claim_or_scp_list_satisfies_required_scopes(jwt_mode):
    jwt_mode.MCP_REQUIRED_SCOPES = ["mcp:tools"]
    await verified(hs_token(scope="openid mcp:tools"))
    await verified(hs_token(scope=None, scp=["mcp:tools", "other"]))


async def test_rs256_with_public_key_file(public_key_mode, rsa_key):
    public_key_mode(rsa_key)
    info = await verified(jwt.encode(claims(), rsa_key, algorithm="RS256"))
    assert info.principal == "alice"


async def test_es256_with_public_key_file(public_key_mode, ec_key):
    public_key_mode(ec_key)
    info = await verified(jwt.encode(claims(sub="bob"), ec_key, algorithm="ES256"))
    assert info.principal == "bob"


async def test_configured_algorithms_restrict_the_key(public_key_mode, rsa_key, settings):
    public_key_mode(rsa_key)
    await verified(jwt.encode(claims(), rsa_key, algorithm="RS384"))
    settings.MCP_JWT_ALGORITHMS = ["RS256"]
    await verified(jwt.encode(claims(), rsa_key, algorithm="RS256"))
    await refused(jwt.encode(claims(), rsa_key, algorithm="RS384"))


# --- Refused tokens ---------------------------------------------------------------------------


async def test_expired_token_is_invalid_token(jwt_mode):
    error = await refused(hs_token(exp=int(time.time()) - 3600))
    params = challenge_params(error.headers["WWW-Authenticate"])
    assert params["error"] == "invalid_token"
    assert params["resource_metadata"] == PRM_URL
    assert "expired" in params["error_description"]


@pytest.mark.parametrize(
    "audience",
    [
        "https://other.example/mcp",
        "http://127.0.0.1:3000/mcp/",
        "http://127.0.0.1:3000/MCP",
        "http://127.0.0.1:3001/mcp",
        ["https://other.example/mcp"],
        [],
        "",
        42,
        [42],
        {"aud": RESOURCE},
    ],
)
async def test_wrong_audience_is_refused(jwt_mode, audience):
    await refused(hs_token(aud=audience))


async def test_missing_audience_is_refused(jwt_mode):
    await refused(hs_token(aud=None))


@pytest.mark.parametrize("issuer", ["https://evil.example.com", None])
async def test_wrong_or_missing_issuer_is_refused(jwt_mode, issuer):
    await refused(hs_token(iss=issuer))


async def test_missing_exp_is_refused(jwt_mode):
    await refused(hs_token(exp=None))


async def test_not_yet_valid_is_refused(jwt_mode):
    await refused(hs_token(nbf=int(time.time()) + 3600))


async def test_wrong_signature_is_refused(jwt_mode):
    error = await refused(hs_token(secret="another-secret-" + "x" * 50))
    assert "signature" in error.message


async def test_tampered_payload_is_refused(jwt_mode):
    header, _, signature = hs_token().split(".")
    forged = b64(json.dumps(claims(sub="root")))
    await refused(f"{header}.{forged}.{signature}")


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_refused(jwt_mode, alg):
    unsigned = f"{b64(json.dumps({'alg': alg, 'typ': 'JWT'}))}.{b64(json.dumps(claims()))}."
    await refused(unsigned)
    jwt_mode.MCP_JWT_ALGORITHMS = ["none", "HS256"]
    await refused(unsigned)


async def test_hs256_signed_with_the_public_key_is_refused(public_key_mode, rsa_key, settings):
    """Algorithm confusion: the public key (which attackers have) used as an HMAC secret."""
    public_key_mode(rsa_key)
    forged = raw_token(json.dumps({"alg": "HS256", "typ": "JWT"}), json.dumps(claims()), public_pem(rsa_key))
    await refused(forged)
    # Even when HS256 is listed, no secret is configured, so nothing may verify it.
    settings.MCP_JWT_ALGORITHMS = ["RS256", "HS256"]
    await refused(forged)


async def test_es256_token_against_an_rsa_key_is_refused(public_key_mode, rsa_key, ec_key):
    public_key_mode(rsa_key)
    await refused(jwt.encode(claims(), ec_key, algorithm="ES256"))


async def test_rs256_token_in_secret_only_mode_is_refused(jwt_mode, rsa_key):
    await refused(jwt.encode(claims(), rsa_key, algorithm="RS256"))


async def test_missing_scope_is_403_insufficient_scope(jwt_mode):
    jwt_mode.MCP_REQUIRED_SCOPES = ["mcp:admin"]
    error = await refused(hs_token(scope="mcp:tools"), Forbidden)
    assert error.status == 403
    header = error.headers["WWW-Authenticate"]
    assert header.startswith('Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata=')
    assert challenge_params(header)["resource_metadata"] == PRM_URL


async def test_scope_prefix_is_not_a_grant(jwt_mode):
    jwt_mode.MCP_REQUIRED_SCOPES = ["mcp:admin"]
    await refused(hs_token(scope="mcp:admin2 mcp"), Forbidden)
    await refused(hs_token(scope=None, scp=["mcp"]), Forbidden)
    await verified(hs_token(scope=None, scp="mcp:admin"))


def _signed(payload: str) -> str:
    return raw_token(json.dumps({"alg": "HS256", "typ": "JWT"}), payload)


MALFORMED = {
    "one part": "abcdef",
    "two parts": "abc.def",
    "four parts": "{valid}.extra",
    "five empty parts": "....",
    "only dots": "..",
    "non-base64": "!!!.@@@.###",
    "bad padding": "eyJ.eyJ.e",
    "non-JSON header": f"{b64('not json')}.{b64('{}')}.{b64('sig')}",
    "header a JSON list": raw_token("[1, 2]", json.dumps(claims())),
    "header nested 5000 deep": raw_token("[" * 5000 + "]" * 5000, json.dumps(claims())),
    "header without alg": raw_token('{"typ": "JWT"}', json.dumps(claims())),
    "alg a number": raw_token('{"alg": 256}', json.dumps(claims())),
    "kid a list": raw_token('{"alg": "HS256", "kid": ["a"]}', json.dumps(claims())),
    "payload a JSON number": _signed("42"),
    "payload JSON null": _signed("null"),
    "payload a JSON string": _signed('"alice"'),
    "payload not JSON": _signed("alice"),
    "payload nested 5000 deep": _signed("[" * 5000 + "]" * 5000),
    "huge exp (1e999)": _signed(json.dumps(claims(exp=None))[:-1] + ', "exp": 1e999}'),
    "exp NaN": _signed(json.dumps(claims(exp=None))[:-1] + ', "exp": NaN}'),
    "exp a string": _signed(json.dumps(claims(exp="tomorrow"))),
    "exp a list": _signed(json.dumps(claims(exp=[1]))),
    "iat in the future": _signed(json.dumps(claims(iat=int(time.time()) + 86400))),
    "sub a number": _signed(json.dumps(claims(sub=12345))),
    "iss a number": _signed(json.dumps(claims(iss=7))),
    "aud an object": _signed(json.dumps(claims(aud={"x": 1}))),
    "non-ASCII": "éé.éé.éé",
    "spaces inside": "abc def.ghi",
    "too long": "a" * 20_000 + ".b.c",
}


def malformed_token(name: str) -> str:
    return MALFORMED[name].replace("{valid}", hs_token())


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_malformed_tokens_are_401_invalid_token(jwt_mode, name):
    error = await refused(malformed_token(name))
    assert challenge_params(error.headers["WWW-Authenticate"])["error"] == "invalid_token"


async def test_empty_bearer_is_401(jwt_mode):
    with pytest.raises(Unauthorized):
        await authenticate(request_with("Bearer "))
    with pytest.raises(Unauthorized):
        await authenticate(request_with("Bearer"))


async def test_huge_integer_exp_is_just_a_long_lived_token(jwt_mode):
    await verified(_signed(json.dumps(claims(exp=10**30))))


# --- JWKS ------------------------------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 (a thread), counting fetches; ``delay`` slows answers."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        self.delay = 0.0
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                time.sleep(server.delay)
                body = json.dumps({"keys": server.keys}).encode()
                try:
                    self.send_response(server.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout tests)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, *entries: tuple[str, Any, str]) -> None:
        self.keys = []
        for kid, private_key, alg in entries:
            jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private_key.public_key()))
            self.keys.append({**jwk, "kid": kid, "use": "sig", "alg": alg})

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture
def jwks_mode(jwt_mode, jwks_server) -> JwksServer:
    jwt_mode.MCP_JWT_SECRET = None
    jwt_mode.MCP_JWKS_URL = jwks_server.url
    auth.verifier_for.cache_clear()
    return jwks_server


@pytest.fixture(scope="module")
def rsa_key_2() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def kid_token(private_key: Any, kid: str | None, alg: str = "RS256", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), private_key, algorithm=alg, headers=headers)


async def test_jwks_verifies_and_caches(jwks_mode, rsa_key, ec_key):
    jwks_mode.publish(("k1", rsa_key, "RS256"), ("k2", ec_key, "ES256"))
    assert (await verified(kid_token(rsa_key, "k1"))).principal == "alice"
    assert (await verified(kid_token(ec_key, "k2", "ES256", sub="carol"))).principal == "carol"
    for _ in range(5):
        await verified(kid_token(rsa_key, "k1"))
    assert jwks_mode.fetches == 1


async def test_jwks_refetches_once_on_an_unknown_kid(jwks_mode, rsa_key, rsa_key_2, monkeypatch):
    monkeypatch.setattr(auth, "JWKS_REFETCH_COOLDOWN", 0.0)
    jwks_mode.publish(("k1", rsa_key, "RS256"))
    await verified(kid_token(rsa_key, "k1"))
    jwks_mode.publish(("k1", rsa_key, "RS256"), ("k2", rsa_key_2, "RS256"))
    await verified(kid_token(rsa_key_2, "k2"))
    assert jwks_mode.fetches == 2
    # A kid the authorization server does not publish: one refetch, then refused.
    await refused(kid_token(rsa_key_2, "nope"))
    assert jwks_mode.fetches == 3


async def test_unknown_kid_flood_does_not_flood_the_authorization_server(jwks_mode, rsa_key):
    jwks_mode.publish(("k1", rsa_key, "RS256"))
    await verified(kid_token(rsa_key, "k1"))
    for n in range(20):
        await refused(kid_token(rsa_key, f"made-up-{n}"))
    assert jwks_mode.fetches == 1


async def test_jwks_key_is_bound_to_its_algorithm(jwks_mode, rsa_key):
    jwks_mode.publish(("k1", rsa_key, "RS256"))
    await refused(kid_token(rsa_key, "k1", "RS512"))
    # HMAC with the JWKS public key as the secret: no secret is configured, refused.
    forged = raw_token(json.dumps({"alg": "HS256", "kid": "k1"}), json.dumps(claims()), public_pem(rsa_key))
    await refused(forged)


async def test_jwks_token_without_kid_uses_a_single_key_only(jwks_mode, rsa_key, rsa_key_2):
    jwks_mode.publish(("k1", rsa_key, "RS256"))
    await verified(kid_token(rsa_key, None))
    auth.verifier_for.cache_clear()
    jwks_mode.publish(("k1", rsa_key, "RS256"), ("k2", rsa_key_2, "RS256"))
    await refused(kid_token(rsa_key, None))


async def test_jwks_fetch_does_not_block_the_event_loop(jwks_mode, rsa_key):
    jwks_mode.publish(("k1", rsa_key, "RS256"))
    jwks_mode.delay = 0.5
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        # Concurrent first requests share one fetch.
        await asyncio.gather(*(verified(kid_token(rsa_key, "k1")) for _ in range(5)))
    finally:
        task.cancel()
    assert ticks >= 20
    assert jwks_mode.fetches == 1


async def test_unreachable_jwks_is_503_and_bounded(jwks_mode, rsa_key, monkeypatch):
    monkeypatch.setattr(auth, "JWKS_FETCH_TIMEOUT", 0.3)
    jwks_mode.publish(("k1", rsa_key, "RS256"))
    jwks_mode.delay = 2.0
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        await verified(kid_token(rsa_key, "k1"))
    assert time.monotonic() - started < 1.5


async def test_jwks_http_error_is_503_then_backs_off(jwks_mode, rsa_key):
    jwks_mode.status = 500
    with pytest.raises(ServiceUnavailable):
        await verified(kid_token(rsa_key, "k1"))
    with pytest.raises(ServiceUnavailable):
        await verified(kid_token(rsa_key, "k1"))
    assert jwks_mode.fetches == 1


async def test_stale_jwks_is_kept_when_a_refresh_fails(jwks_mode, rsa_key, settings):
    settings.MCP_JWKS_CACHE_SECONDS = 0
    jwks_mode.publish(("k1", rsa_key, "RS256"))
    await verified(kid_token(rsa_key, "k1"))
    jwks_mode.status = 500
    await verified(kid_token(rsa_key, "k1"))
    assert jwks_mode.fetches == 2


# --- Through the real ASGI application ---------------------------------------------------------


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_not_logged(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    for record in caplog.records:
        line = record.getMessage()
        for secret in secrets:
            assert secret not in line, f"a token reached the log: {record.name}"


async def test_oauth_flow_end_to_end(jwt_mode, http, caplog):
    caplog.set_level(logging.DEBUG)
    jwt_mode.MCP_REQUIRED_SCOPES = ["mcp:tools"]

    # 1. No token: 401, and the challenge says where the metadata is.
    anonymous = McpClient(http)
    response = await anonymous.post(INITIALIZE)
    assert response.status_code == 401
    params = challenge_params(response.headers["www-authenticate"])
    assert params["resource_metadata"] == PRM_URL
    assert params["scope"] == "mcp:tools"
    assert "error" not in params

    # 2. The metadata names the resource and its authorization server.
    prm = await http.get(urlsplit(params["resource_metadata"]).path)
    assert prm.status_code == 200
    document = prm.json()
    assert document["resource"] == RESOURCE
    assert document["authorization_servers"] == [ISSUER]

    # 3. A token for this resource, from that server: the session works.
    alice_token = hs_token(sub="alice", aud=document["resource"], iss=document["authorization_servers"][0])
    alice = McpClient(http, extra_headers=bearer(alice_token))
    await alice.initialize()
    echoed = await alice.tool_text("echo", {"message": "hello oauth"})
    assert echoed.endswith("hello oauth")
    replayed = await alice.tool_text("replayLastEcho")
    assert replayed.endswith("hello oauth")

    # 4. Another subject with alice's session id: as if the session did not exist.
    bob_token = hs_token(sub="bob")
    bob = McpClient(
        http, extra_headers=bearer(bob_token), session_id=alice.session_id, protocol=alice.protocol
    )
    stolen = await bob.request("tools/call", {"name": "replayLastEcho"})
    assert stolen.status_code == 404
    assert "hello oauth" not in stolen.text
    stream = await http.get("/mcp", headers={**bob.headers(), "Accept": "text/event-stream"})
    assert stream.status_code == 404
    assert (await http.delete("/mcp", headers=bob.headers())).status_code == 404

    # 5. The session id alone is not authentication, on any method.
    bare = McpClient(http, session_id=alice.session_id, protocol=alice.protocol)
    assert (await bare.request("ping")).status_code == 401
    get_stream = await http.get("/mcp", headers={**bare.headers(), "Accept": "text/event-stream"})
    assert get_stream.status_code == 401
    assert (await http.delete("/mcp", headers=bare.headers())).status_code == 401

    # 6. A token without the scope: 403 insufficient_scope.
    narrow = McpClient(
        http,
        extra_headers=bearer(hs_token(scope="mcp:read")),
        session_id=alice.session_id,
        protocol=alice.protocol,
    )
    forbidden = await narrow.request("ping")
    assert forbidden.status_code == 403
    assert challenge_params(forbidden.headers["www-authenticate"])["error"] == "insufficient_scope"

    # 7. Alice's session is intact, and she can end it.
    assert messages_of(await alice.request("ping"))[-1]["result"] == {}
    assert (await http.delete("/mcp", headers=alice.headers())).status_code == 204

    assert_not_logged(caplog, alice_token, bob_token)


REFUSALS = {
    "expired": (lambda keys: hs_token(exp=int(time.time()) - 3600), 401),
    "wrong audience": (lambda keys: hs_token(aud="https://other.example/mcp"), 401),
    "wrong issuer": (lambda keys: hs_token(iss="https://evil.example.com"), 401),
    "wrong signature": (lambda keys: hs_token(secret="x" * 64), 401),
    "alg none": (
        lambda keys: f"{b64(json.dumps({'alg': 'none'}))}.{b64(json.dumps(claims()))}.",
        401,
    ),
    "alg confusion": (
        lambda keys: raw_token(json.dumps({"alg": "HS256"}), json.dumps(claims()), public_pem(keys)),
        401,
    ),
    "missing scope": (lambda keys: hs_token(scope="mcp:read"), 403),
    **{f"malformed: {name}": (lambda keys, name=name: malformed_token(name), 401) for name in MALFORMED},
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_refusals_through_the_endpoint(jwt_mode, http, caplog, case, rsa_key, tmp_path):
    caplog.set_level(logging.DEBUG)
    jwt_mode.MCP_REQUIRED_SCOPES = ["mcp:tools"]
    make, status = REFUSALS[case]
    if case == "alg confusion":
        path = tmp_path / "public.pem"
        path.write_bytes(public_pem(rsa_key))
        jwt_mode.MCP_JWT_SECRET = None
        jwt_mode.MCP_JWT_PUBLIC_KEY_FILE = str(path)
    token = make(rsa_key)
    # Sent as raw bytes: a non-ASCII token must reach the server as the client wrote it.
    client = McpClient(http, extra_headers={"Authorization": f"Bearer {token}".encode()})  # type: ignore[dict-item]
    response = await client.post(INITIALIZE)
    assert response.status_code == status, response.text
    assert token not in response.text
    assert all(token not in value for value in response.headers.values())
    challenge = challenge_params(response.headers["www-authenticate"])
    assert challenge["error"] == ("insufficient_scope" if status == 403 else "invalid_token")
    assert challenge["resource_metadata"] == PRM_URL
    assert_not_logged(caplog, token)
