"""What trace context a client sent, and where: the verdict shown to client authors.

Pure Python, no OpenTelemetry import: printHeader, the traffic record and traceInfo show it
whether tracing is configured or not. The MCP conventions (GenAI mcp.md, "Context
propagation") carry W3C Trace Context in the request's ``params._meta`` under the
unprefixed keys ``traceparent``, ``tracestate`` and ``baggage``; HTTP headers of the same
names only cover the HTTP request. Guarantees:

- ``inspect`` never raises, whatever the client sent, and reads only those keys;
- ``well_formed`` follows W3C Trace Context level 1 (``traceparent``): version two lower-case
  hex digits other than ``ff``; for version ``00`` exactly ``00-<32 hex>-<16 hex>-<2 hex>``,
  trace and parent ids not all zeros; a later version may append ``-`` fields;
- ``problem`` says in one sentence what is wrong (or missing), for a client author to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEYS = ("traceparent", "tracestate", "baggage")
KEY_SET = frozenset(KEYS)
NONE_FOUND: frozenset[str] = frozenset()
MAX_SHOWN = 256

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
SHAPE = "00-<32 hex>-<16 hex>-<2 hex>"
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class Traceparent:
    """A parsed ``traceparent``; ``problem`` is None exactly when it is well formed."""

    value: str
    trace_id: str | None = None
    parent_id: str | None = None
    sampled: bool | None = None
    problem: str | None = None


def parse_traceparent(value: Any) -> Traceparent:
    """The W3C reading of one ``traceparent`` value (any JSON value; never raises)."""
    if not isinstance(value, str):
        return Traceparent(repr(value)[:MAX_SHOWN], problem="traceparent must be a string")
    shown = value[:MAX_SHOWN]
    match = _TRACEPARENT.match(value)
    if match is None:
        if value.strip() != value:
            return Traceparent(shown, problem="traceparent has surrounding whitespace")
        if value.lower() != value:
            return Traceparent(shown, problem="traceparent must be lower-case hex")
        return Traceparent(
            shown, problem="traceparent is not version-traceid-parentid-flags (00-<32 hex>-<16 hex>-<2 hex>)"
        )
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff":
        return Traceparent(shown, problem="traceparent version ff is invalid")
    if version == "00" and rest is not None:
        return Traceparent(shown, problem="traceparent version 00 has exactly four fields")
    if trace_id == _ZERO_TRACE:
        return Traceparent(shown, problem="traceparent trace id is all zeros")
    if parent_id == _ZERO_SPAN:
        return Traceparent(shown, problem="traceparent parent id is all zeros")
    return Traceparent(shown, trace_id, parent_id, bool(int(flags, 16) & 1))


@dataclass(frozen=True, slots=True)
class Carried:
    """Where a message's trace context came from and whether it can be used.

    ``where`` is ``"_meta"``, ``"http"`` (only the HTTP headers), ``"both"`` or ``"none"``;
    ``used`` is the traceparent a server takes (``_meta`` first), or None.
    """

    where: str
    used: Traceparent | None
    meta_keys: tuple[str, ...] = ()
    header_keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def well_formed(self) -> bool | None:
        return None if self.used is None else self.used.problem is None

    @property
    def source(self) -> str | None:
        """``"_meta"`` or ``"http"``: where the traceparent taken came from."""
        if self.used is None:
            return None
        return "_meta" if "traceparent" in self.meta_keys else "http"

    def as_dict(self) -> dict[str, Any]:
        used = self.used
        return {
            "carried": self.where,
            "source": self.source,
            "well_formed": self.well_formed,
            "problem": None if used is None else used.problem,
            "traceparent": None if used is None else used.value,
            "client_trace_id": None if used is None else used.trace_id,
            "client_parent_id": None if used is None else used.parent_id,
            "sampled": None if used is None else used.sampled,
            "meta_keys": list(self.meta_keys),
            "header_keys": list(self.header_keys),
            "notes": list(self.notes),
        }


NOTHING = Carried("none", None)


def _misplaced(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """Keys that look like trace context under a prefix the conventions do not use."""
    notes = []
    for key in meta:
        if not isinstance(key, str) or key in KEYS:
            continue
        tail = key.rsplit("/", 1)[-1].lower()
        if tail in KEYS or key.lower() in KEYS:
            notes.append(f"_meta key {key[:100]!r}: trace context keys are unprefixed ({tail})")
    return tuple(notes)


def inspect(meta: Any, headers: Mapping[str, str]) -> Carried:
    """The verdict on one message: its ``params._meta`` (any value) and its HTTP request's
    headers (lower-case names, as ``RequestInfo.headers`` holds them)."""
    meta = meta if isinstance(meta, Mapping) else {}
    # Set intersections: most messages carry none of the keys, and this runs for every one.
    in_meta = meta.keys() & KEY_SET if meta else NONE_FOUND
    in_headers = headers.keys() & KEY_SET
    notes = _misplaced(meta) if meta else ()
    if not in_meta and not in_headers:
        return Carried("none", None, notes=notes) if notes else NOTHING
    meta_keys = tuple(key for key in KEYS if key in in_meta)
    header_keys = tuple(key for key in KEYS if key in in_headers)
    where = "both" if meta_keys and header_keys else "_meta" if meta_keys else "http"
    used = None
    if "traceparent" in meta:
        used = parse_traceparent(meta["traceparent"])
        if "traceparent" in headers:
            header = parse_traceparent(headers["traceparent"])
            if header.trace_id and used.trace_id and header.trace_id != used.trace_id:
                notes += ("the HTTP traceparent names another trace; _meta's is the MCP parent",)
    elif "traceparent" in headers:
        used = parse_traceparent(headers["traceparent"])
        notes += ("trace context only in HTTP headers: put traceparent in params._meta too",)
    elif meta_keys:
        notes += ("tracestate or baggage without traceparent is ignored",)
    return Carried(where, used, meta_keys, header_keys, notes)


def report(meta: Any, headers: Mapping[str, str], operation: Any = None) -> dict[str, Any] | None:
    """The traffic record's ``trace`` field for one exchange: the verdict on its first
    message (``meta`` is that message's ``params._meta``) and ``server_trace_id``, the trace
    the server's span joined (``operation``: its ``ServerOperation``, None when not traced).
    None when there is nothing to say: no trace context carried, none misplaced, not traced."""
    # A traced exchange's span has read its first message already.
    verdict = operation.carried if operation is not None else inspect(meta, headers)
    if verdict is NOTHING and operation is None:
        return None
    shown = verdict.as_dict()
    shown["server_trace_id"] = operation.describe()["trace_id"] if operation is not None else None
    return shown
