"""Bearer tokens for the tests of MCP_AUTH=jwt: a fixed resource, issuer and HMAC secret, and
JWTs signed with it (``hs_token``) or forged from raw text (``raw_token``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import jwt

RESOURCE = "http://127.0.0.1:3000/mcp"
PRM_URL = "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp"
ISSUER = "https://auth.example.com"
SECRET = "test-secret-" + "k" * 52


# --- Keys and tokens ----------------------------------------------------------------------


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice",
        "aud": RESOURCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + 3600,
        "scope": "mcp:tools mcp:read",
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def hs_token(secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm="HS256")


def raw_token(header: str, payload: str, secret: str | bytes = SECRET, alg: str = "sha256") -> str:
    """A compact JWS over arbitrary header and payload text, HMAC-signed with ``secret``."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, signing_input.encode(), getattr(hashlib, alg)).digest()
    return f"{signing_input}.{b64(signature)}"
