"""The embedded authorization server's signing key: one RSA key, made once, kept on disk.

Guarantees: the private key lives only in MCP_OAUTH_SIGNING_KEY_FILE (created 0600, with
O_EXCL so concurrent workers agree on one key); its ``kid`` is the RFC 7638 thumbprint; the
JWKS document and the resource-server check use only its public half, read locally (no
HTTP request to ourselves).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"
KEY_SIZE = 2048


def _load_or_create(path: Path) -> RSAKey:
    try:
        return RSAKey.import_key(path.read_bytes())
    except FileNotFoundError:
        pass
    except Exception as exc:
        raise ImproperlyConfigured(
            f"MCP_OAUTH_SIGNING_KEY_FILE {str(path)!r} holds no RSA private key ({type(exc).__name__})"
        ) from None
    key = RSAKey.generate_key(KEY_SIZE, private=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another worker won the race: use its key.
        return RSAKey.import_key(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.as_pem(private=True))
    return key


@lru_cache(maxsize=4)
def signing_key(path: str | None = None) -> RSAKey:
    key = _load_or_create(Path(path or settings.MCP_OAUTH_SIGNING_KEY_FILE))
    key.ensure_kid()
    return key


def signing_keys() -> KeySet:
    """What the token generator signs with (a set, so joserfc writes the kid header)."""
    return KeySet([signing_key()])


def public_jwks() -> dict[str, Any]:
    key = signing_key()
    return {"keys": [{**key.as_dict(private=False), "use": "sig", "alg": ALGORITHM}]}


def public_key() -> Any:
    """The public half as a ``cryptography`` key, for ``mcp.auth.bearer``'s verifier."""
    return load_pem_public_key(signing_key().as_pem(private=False))
