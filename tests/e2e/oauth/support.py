"""What the OAuth end-to-end modules share: constants, a metadata-document server, helpers.

``SEEN_SECRETS`` collects every secret a test saw issued; each module's last test checks that
none of them reached its server's (debug-level) log.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sqlite3
import ssl
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.live import LiveServer
from tests.e2e.oauth_flow import (
    INITIALIZE,
    Pkce,
    authorize,
    exchange,
    mcp_post,
    redirect_params,
    refresh,
    register,
    run_sdk,
)

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


def check_no_secret_in_log(auth_server: LiveServer, http: httpx.Client) -> None:
    """Every token, refresh token, code and client secret the tests saw (and this check's own
    flow's) is absent from the server's debug log."""
    client = register(http, token_endpoint_auth_method="client_secret_post")
    pkce = Pkce()
    code = redirect_params(authorize(http, client["client_id"], pkce))["code"]
    token = exchange(http, client["client_id"], code, pkce, client_secret=client["client_secret"]).json()
    refreshed = refresh(
        http, client["client_id"], token["refresh_token"], client_secret=client["client_secret"]
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
