"""OAuth 2.1 resource-server mode (MCP_AUTH=jwt or embedded): a bearer JWT verified on every request.

MCP_AUTH=embedded is jwt mode pointed at this process's own authorization server
(``mcp.oauth``): its public key is read locally (never fetched over HTTP), the issuer is
MCP_OAUTH_ISSUER, and a token revoked there is refused at once (``mcp.oauth.revocation``).

Guarantees of ``authenticate``:

- The token is read from ``Authorization: Bearer <token>`` only (the scheme is matched
  case-insensitively); a token anywhere else, the query string included, is never read.
- It is accepted only if its signature verifies with a configured key (MCP_JWT_SECRET,
  the PEM at MCP_JWT_PUBLIC_KEY_FILE, or the JWKS at MCP_JWKS_URL) under an algorithm from
  an explicit list (MCP_JWT_ALGORITHMS, else the algorithms the configured keys imply;
  "none" never), it carries ``exp`` and has not expired (MCP_JWT_LEEWAY), its ``iss`` is
  MCP_JWT_ISSUER when that is set, its ``aud`` names this resource (MCP_JWT_AUDIENCE, else
  MCP_RESOURCE_URL; scheme and host compared case-insensitively), and it names a subject.
- A token that fails any check, including any malformed input, raises ``Unauthorized``
  (401); a valid token without MCP_REQUIRED_SCOPES raises ``Forbidden`` (403). Both carry a
  ``WWW-Authenticate`` challenge whose ``resource_metadata`` URL is built from
  MCP_RESOURCE_URL, never from request headers. If the JWKS cannot be fetched and no keys
  are cached, ``ServiceUnavailable`` (503).
- No message, header or log line produced here contains the token.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mcp.auth.config import Config, challenge, current_config, unauthorized
from mcp.errors import Forbidden, ServiceUnavailable
from mcp.redact import redact_url
from mcp.wire.request import RequestInfo
from mcp.wire.uri import canonical_uri

logger = logging.getLogger("mcp.auth")

# Real access tokens are a few KiB at most; anything longer is refused unparsed.
MAX_TOKEN_LENGTH = 16 * 1024
JWKS_FETCH_TIMEOUT = 5.0
# An unknown kid triggers at most one JWKS refetch per this many seconds, so a flood of
# made-up kids cannot turn into a flood of requests to the authorization server.
JWKS_REFETCH_COOLDOWN = 10.0

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS_BY_CURVE = {
    "secp256r1": ("ES256",),
    "secp384r1": ("ES384",),
    "secp521r1": ("ES512",),
    "secp256k1": ("ES256K",),
}
EDDSA_ALGORITHMS = ("EdDSA",)
ASYMMETRIC_ALGORITHMS = (
    *RSA_ALGORITHMS,
    *(alg for algs in EC_ALGORITHMS_BY_CURVE.values() for alg in algs),
    *EDDSA_ALGORITHMS,
)

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
PRIVATE_KEY_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)


class InvalidToken(Exception):
    """Why a token was refused; the message is one of this module's fixed texts."""


# --- Keys ----------------------------------------------------------------------------------


def algorithms_for_key(key: Any) -> tuple[str, ...]:
    """The JWS algorithms a public key can verify; empty for any other kind of key."""
    if isinstance(key, rsa.RSAPublicKey):
        return RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey):
        return EC_ALGORITHMS_BY_CURVE.get(key.curve.name, ())
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return EDDSA_ALGORITHMS
    return ()


def load_public_key(path: str) -> PublicKey:
    """A PEM public key, or the key of a PEM certificate; ImproperlyConfigured otherwise."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"MCP_JWT_PUBLIC_KEY_FILE {path!r} cannot be read: {exc}") from None
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = load_pem_public_key(data)
    except ValueError:
        raise ImproperlyConfigured(
            f"MCP_JWT_PUBLIC_KEY_FILE {path!r} holds no PEM public key or certificate"
        ) from None
    if not algorithms_for_key(key):
        raise ImproperlyConfigured(
            f"MCP_JWT_PUBLIC_KEY_FILE {path!r}: a {type(key).__name__} cannot verify JWS signatures"
        )
    return key  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Jwk:
    key: PublicKey
    algorithms: tuple[str, ...]


class JwksUnavailable(Exception):
    pass


def _fetch_jwks(url: str, timeout: float) -> dict[str | None, Jwk]:
    """Blocking: fetch and parse a JWKS (call it in a thread). Only public signing keys are kept."""
    data = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=timeout).fetch_data()
    items = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("the JWKS has no 'keys' list")
    keys: dict[str | None, Jwk] = {}
    for item in items:
        if not isinstance(item, dict) or item.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(item).key
        except Exception as exc:
            logger.debug("JWKS key %r skipped: %s", str(item.get("kid"))[:64], type(exc).__name__)
            continue
        if isinstance(key, PRIVATE_KEY_TYPES):
            key = key.public_key()
        algorithms = algorithms_for_key(key)
        declared = item.get("alg")
        if declared is not None:
            algorithms = tuple(alg for alg in algorithms if alg == declared)
        kid = item.get("kid")
        if algorithms and (kid is None or isinstance(kid, str)):
            keys[kid] = Jwk(key, algorithms)
    return keys


@dataclass(slots=True)
class JwksCache:
    """The keys of one JWKS URL, fetched off the event loop and cached for ``ttl`` seconds.

    Concurrent requests share one fetch. A failed refresh keeps the previous keys; an
    unknown kid refetches at most once per JWKS_REFETCH_COOLDOWN seconds.
    """

    url: str
    ttl: float
    keys: dict[str | None, Jwk] = field(default_factory=dict)
    fetched_at: float = -math.inf
    attempted_at: float = -math.inf
    fetches: int = 0
    _inflight: asyncio.Task[None] | None = None

    async def find(self, kid: str | None) -> Jwk | None:
        pending = self._pending()
        if pending is not None:
            await asyncio.shield(pending)
        now = time.monotonic()
        stale = now - self.fetched_at >= self.ttl
        may_retry = now - self.attempted_at >= min(self.ttl, JWKS_REFETCH_COOLDOWN)
        unknown_kid = self._lookup(kid) is None and now - self.attempted_at >= JWKS_REFETCH_COOLDOWN
        if (stale and may_retry) or unknown_kid:
            await self.refresh()
        if not self.keys and self.fetched_at == -math.inf:
            raise JwksUnavailable()
        return self._lookup(kid)

    def _lookup(self, kid: str | None) -> Jwk | None:
        if kid is None:
            # A token without kid is only matched against a JWKS of exactly one key.
            return next(iter(self.keys.values())) if len(self.keys) == 1 else None
        return self.keys.get(kid)

    def _pending(self) -> asyncio.Task[None] | None:
        task = self._inflight
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return None
        return task

    async def refresh(self) -> None:
        task = self._pending()
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch())
            self._inflight = task
        # Shielded: a request that goes away must not cancel the fetch others wait for.
        await asyncio.shield(task)

    async def _fetch(self) -> None:
        self.attempted_at = time.monotonic()
        self.fetches += 1
        try:
            keys = await asyncio.wait_for(
                asyncio.to_thread(_fetch_jwks, self.url, JWKS_FETCH_TIMEOUT), JWKS_FETCH_TIMEOUT + 1
            )
        except Exception as exc:
            logger.warning(
                "JWKS fetch from %s failed: %s (keeping %d cached keys)",
                redact_url(self.url),
                type(exc).__name__,
                len(self.keys),
            )
            return
        self.keys = keys
        self.fetched_at = time.monotonic()


@dataclass(slots=True)
class Verifier:
    config: Config
    secret: bytes | None
    public_key: PublicKey | None
    jwks: JwksCache | None
    allowed: frozenset[str]

    async def key_for(self, header: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
        """The key to verify a token with this header, and the algorithms that key may use.

        HS* only ever with MCP_JWT_SECRET; anything else with the JWKS key of the token's kid,
        else the PEM key, else (no kid, JWKS only) the JWKS's single key.
        """
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.allowed:
            raise InvalidToken("the token's signing algorithm is not accepted")
        if alg in HMAC_ALGORITHMS:
            if self.secret is None:
                raise InvalidToken("the token's signing algorithm is not accepted")
            return self.secret, tuple(a for a in HMAC_ALGORITHMS if a in self.allowed)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("the token is malformed")
        if self.jwks is not None and (kid is not None or self.public_key is None):
            try:
                jwk = await self.jwks.find(kid)
            except JwksUnavailable:
                raise ServiceUnavailable(
                    "Service Unavailable: the authorization server's keys (MCP_JWKS_URL) cannot be fetched"
                ) from None
            if jwk is None:
                raise InvalidToken("no key of the authorization server matches the token's key id")
            return jwk.key, tuple(a for a in jwk.algorithms if a in self.allowed)
        if self.public_key is not None:
            return self.public_key, tuple(a for a in algorithms_for_key(self.public_key) if a in self.allowed)
        raise InvalidToken("the token's signing algorithm is not accepted")


@lru_cache(maxsize=8)
def verifier_for(config: Config) -> Verifier:
    if not config.resource_url:
        raise ImproperlyConfigured("MCP_AUTH=jwt needs MCP_RESOURCE_URL (the canonical URL of /mcp)")
    if config.embedded:
        from mcp.oauth import keys

        public_key = keys.public_key()
    else:
        public_key = load_public_key(config.public_key_file) if config.public_key_file else None
    implied: set[str] = set()
    if config.secret:
        implied.update(HMAC_ALGORITHMS)
    if public_key is not None:
        implied.update(algorithms_for_key(public_key))
    if config.jwks_url:
        implied.update(ASYMMETRIC_ALGORITHMS)
    if not implied:
        raise ImproperlyConfigured(
            "MCP_AUTH=jwt needs MCP_JWT_SECRET, MCP_JWT_PUBLIC_KEY_FILE or MCP_JWKS_URL"
        )
    allowed = (
        frozenset(alg for alg in config.algorithms if alg.lower() != "none")
        if config.algorithms
        else frozenset(implied)
    )
    return Verifier(
        config=config,
        secret=config.secret.encode() if config.secret else None,
        public_key=public_key,
        jwks=JwksCache(config.jwks_url, float(config.jwks_cache_seconds)) if config.jwks_url else None,
        allowed=allowed,
    )


# --- Verification --------------------------------------------------------------------------


def bearer_token(info: RequestInfo) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None when there is no bearer credential."""
    scheme, *rest = info.header("authorization").split(None, 1) or [""]
    if scheme.lower() != "bearer":
        return None
    return rest[0].strip() if rest else ""


def audience_matches(claim: Any, expected: str) -> bool:
    audiences = [claim] if isinstance(claim, str) else claim
    if not isinstance(audiences, list) or not audiences:
        return False
    wanted = canonical_uri(expected)
    return any(isinstance(aud, str) and canonical_uri(aud) == wanted for aud in audiences)


_JWT_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not yet valid"),
    (jwt.InvalidSignatureError, "the token's signature is invalid"),
    (jwt.InvalidIssuerError, "the token was not issued by the expected issuer"),
    (jwt.InvalidAlgorithmError, "the token's signing algorithm is not accepted"),
    (jwt.DecodeError, "the token is malformed"),
)


def describe_jwt_error(exc: Exception) -> str:
    """A fixed text for a verification failure: never the library's message, which may quote input."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token lacks the required {exc.claim!r} claim"
    for kind, text in _JWT_ERRORS:
        if isinstance(exc, kind):
            return text
    return "the token is invalid"


async def verify(token: str, config: Config) -> dict[str, Any]:
    """The verified claims of ``token``; InvalidToken with a fixed text otherwise."""
    if not token:
        raise InvalidToken("the bearer token is empty")
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise InvalidToken("the token is malformed")
    verifier = verifier_for(config)
    try:
        header = jwt.get_unverified_header(token)
    except Exception as exc:
        raise InvalidToken(describe_jwt_error(exc)) from None
    key, algorithms = await verifier.key_for(header)
    if not algorithms:
        raise InvalidToken("the token's signing algorithm is not accepted")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(algorithms),
            issuer=config.issuer,
            leeway=config.leeway,
            options={"require": ["exp"], "verify_aud": False},
        )
    except Exception as exc:
        # Anything the token makes the library raise (OverflowError, TypeError, ...) is the
        # token's fault: it is refused, never a 500.
        raise InvalidToken(describe_jwt_error(exc)) from None
    if "aud" not in claims:
        raise InvalidToken("the token lacks the required 'aud' claim")
    if not audience_matches(claims["aud"], config.audience):
        raise InvalidToken("the token was not issued for this resource (audience mismatch)")
    if config.embedded:
        from mcp.oauth import revocation

        if await revocation.is_revoked(claims.get("jti")):
            raise InvalidToken("the token has been revoked")
    return claims


# A principal taken from client_id (a token without sub: client credentials) is prefixed, so
# that it can never be the same identity as a user whose sub is the same string.
CLIENT_PRINCIPAL = "client:"


def principal_of(claims: dict[str, Any]) -> str:
    """``sub``; for a token without one (empty counts as none), ``client:<client_id>``."""
    subject = claims.get("sub")
    if isinstance(subject, str) and subject:
        return subject
    client = claims.get("client_id")
    if isinstance(client, str) and client:
        return CLIENT_PRINCIPAL + client
    raise InvalidToken("the token names no subject (sub or client_id)")


def granted_scopes(claims: dict[str, Any]) -> set[str]:
    """Scopes from ``scope`` (space-separated string) and ``scp`` (list, or string)."""
    granted: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            granted.update(value.split())
        elif isinstance(value, list):
            granted.update(item for item in value if isinstance(item, str))
    return granted


async def authenticate(info: RequestInfo) -> None:
    """Verify the request's bearer token and set ``info.principal`` / ``info.auth``.

    No-op when MCP_AUTH is "none". Raises ``mcp.errors.Unauthorized`` (401, with
    ``WWW-Authenticate: Bearer resource_metadata=...``) for a missing or invalid token and
    ``mcp.errors.Forbidden`` (403, ``insufficient_scope``) for missing scopes.
    """
    if settings.MCP_AUTH == "none":
        return
    config = current_config()
    token = bearer_token(info)
    if token is None:
        raise unauthorized(config)
    try:
        claims = await verify(token, config)
        principal = principal_of(claims)
    except InvalidToken as exc:
        logger.debug("bearer token from %s refused: %s", info.client_addr or "?", exc)
        raise unauthorized(config, str(exc)) from None
    missing = [scope for scope in config.required_scopes if scope not in granted_scopes(claims)]
    if missing:
        description = "the token lacks the required scope " + " ".join(missing)
        logger.debug("bearer token of %r refused: %s", principal[:100], description)
        raise Forbidden(
            f"Forbidden: {description}",
            headers={
                "WWW-Authenticate": challenge(config, error="insufficient_scope", description=description)
            },
        )
    info.principal = principal
    info.auth = claims
