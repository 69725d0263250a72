"""The MCP request headers and the rules that bind them to the body and the session (pure).

One implementation for the two readers of these rules: the transport, which refuses a request
that breaks one (``*_problem`` and ``modern_mismatch`` return the refusal's message, or None),
and the header verdicts (printHeader, the traffic export), which explain to a gateway author
whether each header agrees with the body and the session and what this server would answer.

Rules by era:
- Session era (2024-11-05 .. 2025-11-25): ``MCP-Protocol-Version`` must be a supported version
  when present (absent: the server assumes 2025-03-26); ``Mcp-Session-Id`` is required after
  ``initialize`` and must be 1-128 visible ASCII characters naming the caller's live session;
  ``Mcp-Method`` and ``Mcp-Name`` are not used.
- 2026-07-28 (stateless): ``MCP-Protocol-Version`` equal to the ``_meta`` version, ``Mcp-Method``
  equal to the body's method and, for tools/call, prompts/get and resources/read, ``Mcp-Name``
  equal to ``params.name`` / ``params.uri`` (a value may be sent as ``=?base64?…?=``); a
  missing or mismatched header is HTTP 400 with -32020. ``Mcp-Session-Id`` is ignored.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcp.protocol import ASSUMED_WITHOUT_HEADER, MODERN_VERSIONS, valid_session_id
from mcp.protocol import PROTOCOL_HEADER as PROTOCOL
from mcp.protocol import SESSION_HEADER as SESSION

METHOD = "Mcp-Method"
NAME = "Mcp-Name"
MODERN = MODERN_VERSIONS[0]
HEADER_MISMATCH = -32020

# The body field each named method mirrors into Mcp-Name.
NAMED_PARAM = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}

SENTINEL_PREFIX = "=?base64?"
SENTINEL_SUFFIX = "?="
_PLAIN = re.compile(r"^[\x20-\x7e]*$")
SHOWN = 200


def decode_value(value: str) -> str | None:
    """A header value as the body would hold it: the ``=?base64?…?=`` sentinel decoded (strict
    Base64 of UTF-8), a plain printable-ASCII value as is; None when it is neither.
    """
    if value.startswith(SENTINEL_PREFIX) and value.endswith(SENTINEL_SUFFIX) and len(value) >= 11:
        encoded = value[len(SENTINEL_PREFIX) : -len(SENTINEL_SUFFIX)]
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    return value if _PLAIN.match(value) else None


def encode_value(value: str) -> str:
    """How a client sends ``value`` in a header: plain when it can be, else the Base64 sentinel."""
    plain = bool(value) and value == value.strip() and _PLAIN.match(value) is not None
    plain = plain and not value.startswith(SENTINEL_PREFIX)
    return value if plain else SENTINEL_PREFIX + base64.b64encode(value.encode()).decode() + SENTINEL_SUFFIX


def named_value(method: str | None, params: Mapping[str, Any] | None) -> str | None:
    """What ``Mcp-Name`` must carry for ``method`` (None when the method has no name header)."""
    field = NAMED_PARAM.get(method or "")
    if field is None:
        return None
    value = (params or {}).get(field)
    return value if isinstance(value, str) else ""


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


def modern_mismatch(
    headers: Mapping[str, str], method: str, params: Mapping[str, Any] | None, meta_version: str | None
) -> str | None:
    """Why a 2026-07-28 request's headers do not match its body (HTTP 400, -32020), or None.

    ``headers`` has lower-case names.
    """
    version = headers.get(PROTOCOL.lower())
    if version is None:
        return f"Header mismatch: {PROTOCOL} is required"
    if meta_version is not None and version != meta_version:
        return f"Header mismatch: {PROTOCOL} {version[:40]!r} differs from _meta's {meta_version[:40]!r}"
    sent_method = headers.get(METHOD.lower())
    if sent_method is None:
        return f"Header mismatch: {METHOD} is required"
    if decode_value(sent_method) != method:
        return f"Header mismatch: {METHOD} {sent_method[:100]!r} differs from the body's {method[:100]!r}"
    expected = named_value(method, params)
    if expected is None:
        return None
    sent_name = headers.get(NAME.lower())
    if sent_name is None:
        return f"Header mismatch: {NAME} is required for {method}"
    if decode_value(sent_name) != expected:
        return f"Header mismatch: {NAME} {sent_name[:100]!r} differs from the body's {expected[:100]!r}"
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
        _unused(METHOD, headers.get(METHOD.lower()), method),
        _unused_name(headers.get(NAME.lower()), method, params),
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


def _unused(header: str, sent: str | None, method: str | None) -> Verdict:
    if sent is None:
        return Verdict(header, None, None, f"not used before {MODERN}; required from {MODERN} (-32020)")
    agrees = decode_value(sent) == method
    where = "matches the body's method" if agrees else f"differs from the body's {str(method)[:100]!r}"
    return Verdict(header, sent, agrees, f"{where}; ignored in a session (a {MODERN} request is checked)")


def _unused_name(sent: str | None, method: str | None, params: Mapping[str, Any] | None) -> Verdict:
    expected = named_value(method, params)
    if expected is None:
        note = f"not defined for {method}" if sent is not None else f"not used for {method}"
        return Verdict(NAME, sent, None, note)
    if sent is None:
        return Verdict(NAME, None, None, f"not used before {MODERN}; required for {method} from {MODERN}")
    agrees = decode_value(sent) == expected
    where = "matches the body" if agrees else f"differs from the body's {expected[:100]!r}"
    return Verdict(NAME, sent, agrees, f"{where}; ignored in a session (a {MODERN} request is checked)")


def _modern(
    headers: Mapping[str, str], method: str, params: Mapping[str, Any] | None, meta_version: str | None
) -> list[Verdict]:
    refused = "HTTP 400 -32020"
    found: list[Verdict] = []
    version = headers.get(PROTOCOL.lower())
    if version is None:
        found.append(Verdict(PROTOCOL, None, False, "required", refused))
    elif meta_version is not None and version != meta_version:
        found.append(Verdict(PROTOCOL, version, False, f"differs from _meta's {meta_version!r}", refused))
    else:
        found.append(Verdict(PROTOCOL, version, True, "matches _meta's protocol version"))
    sent_session = headers.get(SESSION.lower())
    found.append(Verdict(SESSION, sent_session, None, f"ignored in {MODERN} (no sessions, none minted)"))
    sent_method = headers.get(METHOD.lower())
    if sent_method is None:
        found.append(Verdict(METHOD, None, False, "required", refused))
    elif decode_value(sent_method) != method:
        found.append(
            Verdict(METHOD, sent_method, False, f"differs from the body's {method[:100]!r}", refused)
        )
    else:
        found.append(Verdict(METHOD, sent_method, True, "matches the body's method"))
    expected = named_value(method, params)
    sent_name = headers.get(NAME.lower())
    if expected is None:
        found.append(Verdict(NAME, sent_name, None, f"not defined for {method}"))
    elif sent_name is None:
        found.append(Verdict(NAME, None, False, f"required for {method}", refused))
    elif decode_value(sent_name) != expected:
        found.append(Verdict(NAME, sent_name, False, f"differs from the body's {expected[:100]!r}", refused))
    else:
        found.append(Verdict(NAME, sent_name, True, "matches the body"))
    return found
