"""Reading a bearer JWT without trusting it: pure functions over attacker-controlled text.

Guarantees: ``bearer_token`` and ``decode`` raise only ``TokenProblem``, whose message is
safe to show (it never contains more of a credential than ``mcp.redact.mask`` keeps);
``describe`` and ``identity_name`` never raise. Every line they produce has control
characters stripped and values length-capped, whatever the token holds (non-object JSON,
non-numeric or out-of-range dates, NaN, deep nesting, non-ASCII).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from mcp.redact import mask, redact_header, redact_text
from mcp.tools.debuginfo import clean

REGISTERED = ("iss", "sub", "aud", "jti", "iat", "nbf", "exp")
LABELS = {
    "iss": "Issuer",
    "sub": "Subject",
    "aud": "Audience",
    "jti": "JWT ID",
    "iat": "Issued At",
    "nbf": "Not Before",
    "exp": "Expires",
}
VALUE_LIMIT = 200
NAME_LIMIT = 100
MAX_CUSTOM_CLAIMS = 50
RAW_PREVIEW = 50

_PART = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_PART_NAMES = ("header", "payload", "signature")


class TokenProblem(Exception):
    """Why a token cannot be read; the message is fit to show the caller."""


@dataclass(frozen=True, slots=True)
class DecodedToken:
    header: dict[str, Any]
    payload: dict[str, Any]
    parts: tuple[str, str, str]

    @property
    def signed(self) -> bool:
        return bool(self.parts[2])


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` value."""
    value = authorization.strip()
    if not value:
        raise TokenProblem("No Authorization header found")
    scheme, *rest = value.split(None, 1)
    if scheme.lower() != "bearer":
        shown = clean(redact_header("authorization", value), 60)
        raise TokenProblem(f"Authorization header is not Bearer type: {shown}")
    token = rest[0].strip() if rest else ""
    if not token:
        raise TokenProblem("Bearer token is empty")
    return token


def decode(token: str) -> DecodedToken:
    """Header and payload of a compact JWS, without verifying anything."""
    if not token.isascii():
        raise TokenProblem("Token contains non-ASCII characters (a JWT is base64url text)")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenProblem(f"Invalid JWT format (expected 3 parts, got {len(parts)})")
    for name, part in zip(_PART_NAMES, parts, strict=True):
        if not _PART.fullmatch(part):
            raise TokenProblem(f"JWT {name} is not base64url text")
    for name, part in zip(_PART_NAMES[:2], parts, strict=False):
        if not part:
            raise TokenProblem(f"JWT {name} is empty")
    try:
        header = jwt.get_unverified_header(token)
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenProblem(f"Error decoding JWT: {clean(str(exc), VALUE_LIMIT)}") from None
    except Exception as exc:
        # json raises RecursionError on deeply nested input, and pyjwt lets it through.
        raise TokenProblem(f"Error decoding JWT: {type(exc).__name__}") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise TokenProblem("JWT header and payload must be JSON objects")
    return DecodedToken(header, payload, (parts[0], parts[1], parts[2]))


def claim_text(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A claim as one safe line: strings as they are, anything else as JSON."""
    return clean(value if isinstance(value, str) else _dumped(value), limit)


def numeric_date(claim: str, value: Any, now: float) -> str:
    """An iat/nbf/exp value as an ISO time with how far it is from ``now``, or a ❌ reason."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{claim_text(value, 60)} (❌ not a NumericDate)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} (❌ not a finite number)"
    try:
        when = datetime.fromtimestamp(value, tz=UTC).isoformat()
    except (OverflowError, ValueError, OSError):
        return f"{claim_text(value, 60)} (❌ out of range)"
    delta = int(now - float(value))
    if claim == "exp":
        relative = f"EXPIRED {delta}s ago!" if delta >= 0 else f"in {-delta}s"
    elif claim == "nbf":
        relative = f"{delta}s ago" if delta >= 0 else f"NOT YET VALID, in {-delta}s!"
    else:
        relative = f"{delta}s ago" if delta >= 0 else f"in {-delta}s"
    return f"{when} ({relative})"


def describe(token: DecodedToken, *, now: float, verified: bool, include_raw: bool = False) -> list[str]:
    """bearerDecode's report on a decoded token."""
    header = token.header
    lines = ["✅ Valid JWT structure", "", "Header:"]
    lines.append(f"  Algorithm: {claim_text(header.get('alg', 'not set'), NAME_LIMIT)}")
    lines.append(f"  Type: {claim_text(header.get('typ', 'not set'), NAME_LIMIT)}")
    if "kid" in header:
        lines.append(f"  Key ID: {claim_text(header['kid'], NAME_LIMIT)}")

    payload = token.payload
    lines += ["", "Payload:"]
    registered = [claim for claim in REGISTERED if claim in payload]
    for claim in registered:
        value = payload[claim]
        shown = numeric_date(claim, value, now) if claim in ("iat", "nbf", "exp") else claim_text(value)
        lines.append(f"  {LABELS[claim]}: {shown}")
    if not registered:
        lines.append("  (no registered claims)")

    custom = [name for name in payload if name not in REGISTERED]
    if custom:
        lines += ["", "Custom Claims:"]
        for name in custom[:MAX_CUSTOM_CLAIMS]:
            shown = clean(redact_text(_dumped(payload[name])), VALUE_LIMIT)
            lines.append(f"  {clean(name, NAME_LIMIT)}: {shown}")
        if len(custom) > MAX_CUSTOM_CLAIMS:
            lines.append(f"  ... and {len(custom) - MAX_CUSTOM_CLAIMS} more")

    lines.append("")
    if not token.signed:
        lines.append("❌ Signature: Missing (empty third part: the token is unsigned)")
    elif verified:
        lines.append("Signature: verified by this server")
    else:
        lines.append("Signature: NOT verified (decoded without verification)")

    if include_raw:
        lines += ["", "Raw Parts:"]
        lines.append(f"  Header: {_preview(token.parts[0])}")
        lines.append(f"  Payload: {_preview(token.parts[1])}")
        lines.append(f"  Signature: {mask(token.parts[2]) or '(empty)'}")
    return lines


def identity_name(payload: dict[str, Any]) -> str | None:
    """The first non-blank string of name, username, sub, cleaned and capped."""
    for claim in ("name", "username", "sub"):
        value = payload.get(claim)
        if isinstance(value, str):
            name = clean(value, NAME_LIMIT).strip()
            if name:
                return name
    return None


def _dumped(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return f"<{type(value).__name__}>"


def _preview(part: str) -> str:
    return part[:RAW_PREVIEW] + "..." if len(part) > RAW_PREVIEW else part
