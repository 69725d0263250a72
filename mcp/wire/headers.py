"""The MCP request headers and the rules that bind them to the body and the session (pure).

One implementation per rule, shared by the transport, which refuses a request that breaks
one, and by the header verdicts (printHeader, the traffic exports), which explain to a
gateway author whether each header agrees with the body and the session and what this server
would answer:

- session era (2024-11-05 .. 2025-11-25), here: ``MCP-Protocol-Version`` must be a supported
  version when present (absent: the server assumes 2025-03-26); ``Mcp-Session-Id`` is required
  after ``initialize`` and must be 1-128 visible ASCII characters naming the caller's live
  session; ``Mcp-Method`` and ``Mcp-Name`` are not used;
- 2026-07-28 (stateless): ``mcp.wire.routing_headers`` (``Mcp-Method`` equal to the body's method,
  ``Mcp-Name`` to the named param, ``=?base64?…?=`` values; -32020, HTTP 400), which the
  verdicts call as the stateless transport does; ``MCP-Protocol-Version`` equal to the
  ``_meta`` version; ``Mcp-Session-Id`` ignored.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.errors import HeaderMismatch
from mcp.wire import routing_headers as request_headers
from mcp.wire.protocol import ASSUMED_WITHOUT_HEADER, MODERN_VERSIONS, valid_session_id
from mcp.wire.protocol import PROTOCOL_HEADER as PROTOCOL
from mcp.wire.protocol import SESSION_HEADER as SESSION

METHOD = "Mcp-Method"
NAME = "Mcp-Name"
MODERN = MODERN_VERSIONS[0]
REFUSED_MODERN = "HTTP 400 -32020"

SENTINEL_PREFIX = "=?base64?"
SENTINEL_SUFFIX = "?="
_PLAIN = re.compile(r"^[\x20-\x7e]*$")
SHOWN = 200


def encode_value(value: str) -> str:
    """How a client sends ``value`` in a header: plain when it can be, else the Base64 sentinel."""
    plain = bool(value) and value == value.strip() and _PLAIN.match(value) is not None
    plain = plain and not value.startswith(SENTINEL_PREFIX)
    return value if plain else SENTINEL_PREFIX + base64.b64encode(value.encode()).decode() + SENTINEL_SUFFIX


def _getter(headers: Mapping[str, str]) -> request_headers.Headers:
    return lambda name: headers.get(name.lower())


def mirror_problem(
    headers: Mapping[str, str], header: str, method: str, params: Mapping[str, Any] | None
) -> str | None:
    """What the 2026-07-28 rule (``mcp.wire.routing_headers``) says of ``Mcp-Method`` or ``Mcp-Name``."""
    try:
        if header == METHOD:
            request_headers.check_method(_getter(headers), method)
        else:
            request_headers.check_name(_getter(headers), method, dict(params or {}))
    except HeaderMismatch as exc:
        return exc.message
    return None


def named_param(method: str | None) -> str | None:
    """The params field ``Mcp-Name`` repeats for ``method`` (None: the method has no name header)."""
    return request_headers.NAME_SOURCE.get(method or "")


# --- Refusals (the transport raises on these) ---------------------------------------------------


def protocol_version_problem(value: str | None, supported: list[str]) -> str | None:
    """Why a session-era ``MCP-Protocol-Version`` is refused (HTTP 400), or None."""
    if value is None or value in supported:
        return None
    return f"Bad Request: unsupported MCP-Protocol-Version {value[:40]!r}; supported: " + ", ".join(supported)


def session_id_problem(value: str | None) -> str | None:
    """Why an ``Mcp-Session-Id`` is refused before any lookup (HTTP 400), or None."""
    if not value:
        return "Bad Request: Mcp-Session-Id header is required"
    if not valid_session_id(value):
        return "Bad Request: Mcp-Session-Id must be 1-128 visible ASCII characters"
    return None


# --- Verdicts (printHeader and the traffic export explain) --------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """One header against the body and the session.

    ``agrees``: True or False when there is something to agree with, None when the header is
    not applicable here. ``refusal``: what this server answers because of this header, or None
    when it accepts the request.
    """

    header: str
    sent: str | None
    agrees: bool | None
    note: str
    refusal: str | None = None

    def line(self) -> str:
        mark = {True: "✅", False: "❌", None: "·"}[self.agrees]
        sent = "absent" if self.sent is None else repr(self.sent[:SHOWN])
        text = f"{mark} {self.header}: {sent}: {self.note}"
        return f"{text}; this server refuses it: {self.refusal}" if self.refusal else text


def verdicts(
    headers: Mapping[str, str],
    *,
    method: str | None,
    params: Mapping[str, Any] | None,
    supported: list[str],
    session_id: str | None = None,
    session_version: str | None = None,
    meta_version: str | None = None,
) -> list[Verdict]:
    """Verdicts on the four MCP headers of one request (``headers``: lower-case names).

    The era is the one this server picks: 2026-07-28 when the body's ``_meta`` names a version
    (``meta_version``) or the header says 2026-07-28, else the session era.
    """
    version = headers.get(PROTOCOL.lower())
    modern = meta_version is not None or version in MODERN_VERSIONS
    if modern:
        return _modern(headers, method or "", params, meta_version or version)
    return [
        _session_version(version, supported, session_version, method),
        _session_id(headers.get(SESSION.lower()), session_id, method),
        _mirror(METHOD, headers, method or "", params, modern=False),
        _mirror(NAME, headers, method or "", params, modern=False),
    ]


def _session_version(
    sent: str | None, supported: list[str], session_version: str | None, method: str | None
) -> Verdict:
    refusal = protocol_version_problem(sent, supported)
    if refusal:
        return Verdict(PROTOCOL, sent, False, "not a version this server speaks", "HTTP 400 -32600")
    if sent is None:
        if method == "initialize":
            return Verdict(PROTOCOL, None, None, "not needed on initialize (the body negotiates)")
        return Verdict(
            PROTOCOL,
            None,
            False if session_version and session_version >= "2025-06-18" else None,
            f"the server assumes {ASSUMED_WITHOUT_HEADER}; clients at 2025-06-18 and later MUST send "
            "the negotiated version",
        )
    if session_version is None:
        return Verdict(PROTOCOL, sent, None, "supported (no session to compare with)")
    if sent != session_version:
        return Verdict(
            PROTOCOL,
            sent,
            False,
            f"the session negotiated {session_version}; this server accepts the request, a stricter "
            "server may refuse it",
        )
    return Verdict(PROTOCOL, sent, True, "matches the version the session negotiated")


def _session_id(sent: str | None, session_id: str | None, method: str | None) -> Verdict:
    if method == "initialize":
        if sent:
            return Verdict(SESSION, sent, False, "initialize creates the session", "HTTP 400 -32600")
        return Verdict(SESSION, None, None, "not sent on initialize (correct)")
    problem = session_id_problem(sent)
    if problem:
        return Verdict(SESSION, sent, False, problem.removeprefix("Bad Request: "), "HTTP 400 -32600")
    if session_id is None:
        return Verdict(SESSION, sent, None, "well-formed (no session to compare with)")
    if sent != session_id:
        return Verdict(SESSION, sent, False, "names another session", "HTTP 404 -32001")
    return Verdict(SESSION, sent, True, "names this live session")


def _mirror(
    header: str, headers: Mapping[str, str], method: str, params: Mapping[str, Any] | None, *, modern: bool
) -> Verdict:
    """``Mcp-Method`` / ``Mcp-Name`` against the body, by the 2026-07-28 rule itself."""
    sent = headers.get(header.lower())
    if header == NAME and named_param(method) is None:
        return Verdict(NAME, sent, None, f"not defined for {method}")
    problem = mirror_problem(headers, header, method, params)
    if modern:
        if problem:
            return Verdict(header, sent, False, problem.removeprefix("Header mismatch: "), REFUSED_MODERN)
        return Verdict(header, sent, True, "matches the body")
    if sent is None:
        return Verdict(header, None, None, f"not used before {MODERN}; required there ({REFUSED_MODERN})")
    where = f"a {MODERN} request would be refused: {problem}" if problem else "matches the body"
    return Verdict(header, sent, problem is None, f"ignored in a session; {where}")


def _modern(
    headers: Mapping[str, str], method: str, params: Mapping[str, Any] | None, meta_version: str | None
) -> list[Verdict]:
    version = headers.get(PROTOCOL.lower())
    if version is None:
        protocol = Verdict(PROTOCOL, None, False, "required", REFUSED_MODERN)
    elif meta_version is not None and version.strip() != meta_version:
        protocol = Verdict(PROTOCOL, version, False, f"differs from _meta's {meta_version!r}", REFUSED_MODERN)
    else:
        protocol = Verdict(PROTOCOL, version, True, "matches _meta's protocol version")
    session = Verdict(SESSION, headers.get(SESSION.lower()), None, f"ignored in {MODERN} (no sessions)")
    return [
        protocol,
        session,
        _mirror(METHOD, headers, method, params, modern=True),
        _mirror(NAME, headers, method, params, modern=True),
    ]
