"""A session's recorded traffic (``mcp.traffic.record``) as HAR 1.2 or JSON lines (pure).

HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) is what browser developer tools and
HTTP debuggers open: one entry per recorded exchange, oldest first. What HAR has no field for
goes in the ``_mcp`` custom field of each entry (HAR allows fields starting with ``_``): the
JSON-RPC method and id, the era, the injected faults (``marks``) and the header verdicts
(``mcp.wire.headers``: whether MCP-Protocol-Version, Mcp-Session-Id, Mcp-Method and Mcp-Name agree
with the body and the session).

Guarantees: nothing is added to what the record holds, so credentials stay masked exactly as
the record masks them (as printHeader does); bodies are the record's bounded excerpts, and a
HAR reader sees their real sizes as unknown (-1) when they were cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import orjson

from mcp.wire import headers as header_rules

CREATOR = "mcp-echo-stateful-server"
EXCERPT_CUT = "…"
JSON = "application/json"


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pairs(values: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"name": str(name), "value": str(value)} for name, value in (values or {}).items()]


def _body(text: str | None) -> tuple[str, int]:
    """(text, size in bytes; -1 when the record kept only an excerpt)."""
    text = text or ""
    return text, (-1 if text.endswith(EXCERPT_CUT) else len(text.encode()))


def _params(request: str | None) -> dict[str, Any] | None:
    """The JSON-RPC params of a recorded request body, when the excerpt is whole JSON."""
    try:
        body = orjson.loads(request or "")
    except orjson.JSONDecodeError:
        return None
    params = body.get("params") if isinstance(body, dict) else None
    return params if isinstance(params, dict) else None


def verdicts(
    entry: Mapping[str, Any], *, session_id: str | None, session_version: str | None, supported: list[str]
) -> list[dict[str, Any]]:
    """The header verdicts of one recorded request (POSTs with a JSON-RPC method only)."""
    method = entry.get("method")
    if entry.get("http") != "POST" or not isinstance(method, str):
        return []
    params = _params(entry.get("request"))
    meta = (params or {}).get("_meta")
    meta_version = meta.get("io.modelcontextprotocol/protocolVersion") if isinstance(meta, dict) else None
    found = header_rules.verdicts(
        entry.get("headers") or {},
        method=method,
        params=params,
        supported=supported,
        session_id=session_id,
        session_version=session_version,
        meta_version=meta_version if isinstance(meta_version, str) else None,
    )
    return [
        {"header": v.header, "sent": v.sent, "agrees": v.agrees, "note": v.note, "refusal": v.refusal}
        for v in found
    ]


def har_entry(entry: Mapping[str, Any], *, base_url: str, extra: dict[str, Any]) -> dict[str, Any]:
    """One recorded exchange as a HAR 1.2 entry."""
    request_headers = entry.get("headers") or {}
    response_headers = entry.get("response_headers") or {}
    host = request_headers.get("host")
    url = f"http://{host}{entry.get('path', '')}" if host else f"{base_url}{entry.get('path', '')}"
    request_text, request_size = _body(entry.get("request"))
    response_text, response_size = _body(entry.get("response"))
    status = int(entry.get("status") or 0)
    try:
        status_text = HTTPStatus(status).phrase
    except ValueError:
        status_text = ""
    request: dict[str, Any] = {
        "method": entry.get("http") or "POST",
        "url": url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(request_headers),
        "queryString": [],
        "headersSize": -1,
        "bodySize": request_size if request_text else 0,
    }
    if request_text:
        request["postData"] = {
            "mimeType": request_headers.get("content-type") or JSON,
            "params": [],
            "text": request_text,
        }
    ms = max(0.0, float(entry.get("ms") or 0))
    return {
        "startedDateTime": _iso(float(entry.get("t") or 0)),
        "time": ms,
        "request": request,
        "response": {
            "status": status,
            "statusText": status_text,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(response_headers),
            "content": {
                "size": response_size,
                "mimeType": response_headers.get("content-type") or "",
                "text": response_text,
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": response_size if response_text else 0,
        },
        "cache": {},
        "timings": {"send": 0, "wait": ms, "receive": 0},
        "_mcp": {
            "method": entry.get("method"),
            "id": entry.get("id"),
            "era": entry.get("era"),
            "marks": list(entry.get("marks") or []),
            **({"trace": entry["trace"]} if entry.get("trace") else {}),
            **extra,
        },
    }


def to_har(
    entries: Iterable[Mapping[str, Any]],
    *,
    version: str,
    base_url: str = "http://127.0.0.1",
    session_id: str | None = None,
    session_version: str | None = None,
    supported: list[str] | None = None,
) -> dict[str, Any]:
    """A HAR 1.2 document: one entry per recorded exchange, oldest first."""
    har_entries = []
    for entry in entries:
        found = verdicts(
            entry, session_id=session_id, session_version=session_version, supported=supported or []
        )
        har_entries.append(har_entry(entry, base_url=base_url, extra={"headerVerdicts": found}))
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": CREATOR, "version": version},
            "pages": [],
            "entries": har_entries,
            "comment": f"MCP session {session_id}" if session_id else "",
        }
    }


def to_json_lines(entries: Iterable[Mapping[str, Any]], **context: Any) -> str:
    """The record as JSON lines: each entry as recorded, with its header verdicts."""
    lines = []
    for entry in entries:
        line = {**entry, "headerVerdicts": verdicts(entry, **context)}
        lines.append(orjson.dumps(line).decode())
    return "".join(line + "\n" for line in lines)
