"""Fixtures of the OAuth end-to-end modules: a live server in MCP_AUTH=embedded per module
(automatic consent, short-lived access tokens, debug logging), metadata-document servers over
http and https on 127.0.0.1, and the SDK interpreters."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.live import HTTP_TIMEOUT, LiveServer, start_server
from tests.e2e.oauth.support import ACCESS_TTL, DocumentServer, self_signed


@pytest.fixture(scope="module")
def documents() -> Iterator[DocumentServer]:
    server = DocumentServer()
    yield server
    server.close()


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
            # Every SDK flow registers a client from 127.0.0.1: more than the default allows.
            "MCP_OAUTH_REGISTRATIONS_PER_ADDRESS": "10000",
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
