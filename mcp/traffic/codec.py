"""How one traffic entry is kept in the store: compact bytes, read back to the same entry.

An entry (the JSON object documented in ``mcp.traffic.record``) is stored as one byte string:

- version 1: the byte ``0x01``, then a zstd frame (no magic number, no checksum, no
  dictionary id) of the entry's JSON in which every occurrence of the session's id (16
  characters or more) is replaced by the byte ``0x00``. It is compressed with a preset
  dictionary, ``DICTIONARY_V1``: a fixed sample of typical entries (key names, usual headers,
  this server's ``initialize`` result, JSON-RPC framing), so even a lone 1.3 KB
  ``initialize`` entry keeps ~70 bytes.
  The session id is the key the entry is filed under, so it is not stored again (JSON from
  orjson never holds a raw ``0x00``: control characters are escaped).
- version 2 (what ``encode`` writes): the byte ``0x02``, then the same kind of frame, compressed
  with ``DICTIONARY_V2``: version 1's samples in the entry's current shape (with the ``name``,
  ``outcome`` and ``tool_error`` fields added later), so those fields cost no literals either.
- the entry's plain JSON (first byte ``{``): what the store held before version 1.

Guarantees:
- ``decode(encode(entry, sid), sid) == entry`` for every entry in the documented shape.
- ``decode`` never raises: bytes of an unknown version, or that do not decode, give None
  (a reader skips them), so a record written by a newer or broken writer reads safely.
- ``DICTIONARY_V1`` and ``DICTIONARY_V2`` never change: a dictionary change is a new version
  byte (with its own constant), because entries written by one process are read by others
  (Redis mode) and by later releases; every version ever written stays readable.
- Each call costs a few µs: the compressor and decompressor are built once and reused.
"""

from __future__ import annotations

from typing import Any

import orjson
import zstandard

V1 = 1
V2 = 2
PLACEHOLDER = b"\x00"
# Shorter ids are kept as they are (a replacement that short could hit other text).
MIN_ID = 16
LEVEL = 5
# The frame's content size is kept so decompression needs no growing buffer; the rest of
# the header (magic, dictionary id, checksum) only costs bytes here.
_PARAMS = zstandard.ZstdCompressionParameters.from_level(
    LEVEL,
    format=zstandard.FORMAT_ZSTD1_MAGICLESS,
    write_checksum=False,
    write_content_size=True,
    write_dict_id=False,
)

_NUL = "\x00"  # the session id's place (see the module docstring)
_INIT_RESULT = (
    '{"protocolVersion":"2025-11-25","capabilities":{"tools":{"listChanged":true},'
    '"resources":{"subscribe":true,"listChanged":true},"prompts":{"listChanged":true},'
    '"logging":{},"completions":{},"tasks":{"list":{},"cancel":{},"requests":{"tools":{"call":{}}}}},'
    '"serverInfo":{"name":"mcp-echo-stateful-server","title":"MCP Echo Server (stateful)",'
    '"version":"1.0.0"},"instructions":"A diagnostic MCP echo server. Call echo then '
    "replayLastEcho to see session state at work; printHeader, bearerDecode, authContext and "
    'requestTiming show exactly what your client sent."}'
)
# Request headers as common clients send them: Python's http.client, httpx, Node's fetch.
_STDLIB = {
    "host": "127.0.0.1:3000",
    "accept-encoding": "identity",
    "content-length": "179",
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
}
_HTTPX = {
    "host": "localhost:3000",
    "accept": "application/json, text/event-stream",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "user-agent": "python-httpx/0.28.1",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-06-18",
    "mcp-session-id": _NUL,
    "authorization": "Bearer ***",
    "content-length": "160",
}
_NODE = {
    "host": "localhost:3000",
    "connection": "keep-alive",
    "content-type": "application/json",
    "accept": "text/event-stream",
    "mcp-session-id": _NUL,
    "mcp-protocol-version": "2025-03-26",
    "last-event-id": "",
    "accept-language": "*",
    "sec-fetch-mode": "cors",
    "user-agent": "node",
    "accept-encoding": "gzip, deflate",
}
_WRK = {
    "host": "127.0.0.1:3000",
    "user-agent": "wrk",
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-session-id": _NUL,
    "content-length": "96",
}
_JSON = {"content-type": "application/json", "content-length": "88"}
_SSE = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
}
_TAIL = {"mcp-session-id": _NUL, "vary": "origin", "x-request-id": "000000000000"}
_CALL = '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}'
_CALLED = '{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"hi"}],"isError":false}}'
_INITIALIZED = '{"jsonrpc":"2.0","method":"notifications/initialized"}'


def _sample(
    http: str, status: int, method: Any, request_id: Any, era: str, *, since: int = V1, **parts: Any
) -> bytes:
    """One sample entry in the shape of version ``since`` (version 2 adds the last three fields)."""
    entry = {
        "t": 1700000000.000000,
        "ms": 1.0,
        "http": http,
        "path": parts.get("path", "/mcp"),
        "status": status,
        "method": method,
        "id": request_id,
        "era": era,
        "headers": parts["headers"],
        "request": parts.get("request", ""),
        "response": parts.get("response", ""),
        "response_headers": parts["response_headers"],
        "marks": parts.get("marks", []),
    }
    if since >= V2:
        entry |= {"name": parts.get("name"), "outcome": parts.get("outcome", "ok"), "tool_error": False}
    return orjson.dumps(entry)


def _initialized(headers: dict[str, str], request: str, since: int) -> bytes:
    return _sample(
        "POST",
        202,
        "notifications/initialized",
        None,
        "2025",
        since=since,
        headers=headers,
        request=request,
        response_headers={"vary": "origin", "x-request-id": "000000000000"},
    )


def _samples(since: int) -> bytes:
    """The preset dictionary of version ``since``: typical entries in that version's shape.
    zstd finds matches in it as if it preceded each entry; the most common text sits last,
    where match offsets are shortest."""
    return b"".join(
        [
            _sample(
                "GET",
                200,
                None,
                None,
                "2025",
                since=since,
                headers=_NODE,
                response='event: message\nid: 1\ndata: {"jsonrpc":"2.0","method":"notifications/message",'
                '"params":{}}\n\n',
                response_headers=_SSE | _TAIL,
                marks=["latency", "drop"],
            ),
            _sample("DELETE", 204, None, None, "2026", since=since, headers=_HTTPX, response_headers=_TAIL),
            _sample(
                "POST",
                202,
                "tools/list",
                2,
                "legacy",
                path="/messages",
                since=since,
                headers=_HTTPX,
                request='{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}',
                response='{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":""}}',
                response_headers=_JSON | _TAIL,
            ),
            _sample(
                "POST",
                200,
                "tools/call",
                3,
                "2025",
                since=since,
                headers=_WRK,
                request=_CALL,
                name="echo",
                response=_CALLED,
                response_headers=_JSON | _TAIL,
            ),
            _sample(
                "POST",
                200,
                "initialize",
                1,
                "2025",
                since=since,
                headers={k: v for k, v in _HTTPX.items() if k != "mcp-session-id"},
                request='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
                '"capabilities":{},"clientInfo":{"name":"mcp","version":"0.1.0"}}}',
                response='{"jsonrpc":"2.0","id":1,"result":' + _INIT_RESULT + "}",
                response_headers=_JSON | _TAIL,
            ),
            _initialized(_WRK | {"content-length": "54"}, _INITIALIZED, since),
            _initialized(
                _STDLIB
                | {"content-length": "57", "mcp-session-id": _NUL, "mcp-protocol-version": "2025-11-25"},
                '{"jsonrpc": "2.0", "method": "notifications/initialized"}',
                since,
            ),
            _sample(
                "POST",
                200,
                "initialize",
                1,
                "2025",
                since=since,
                headers=_STDLIB,
                request='{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": '
                '"2025-11-25", "capabilities": {}, "clientInfo": {"name": "", "version": "1.0"}}}',
                response='{"jsonrpc":"2.0","id":1,"result":' + _INIT_RESULT + "}",
                response_headers=_JSON | {"content-length": "592"} | _TAIL,
            ),
        ]
    )


# The preset dictionaries: frozen (see the module docstring). A test pins their digests,
# which also guards against an orjson that would print these samples differently.
DICTIONARY_V1 = _samples(V1)
DICTIONARY_V2 = _samples(V2)


def _codec(dictionary: bytes) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    data = zstandard.ZstdCompressionDict(dictionary, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    data.precompute_compress(compression_params=_PARAMS)
    return (
        zstandard.ZstdCompressor(dict_data=data, compression_params=_PARAMS),
        zstandard.ZstdDecompressor(dict_data=data, format=zstandard.FORMAT_ZSTD1_MAGICLESS),
    )


# Version byte -> its compressor and decompressor, built once.
_CODECS = {bytes([V1]): _codec(DICTIONARY_V1), bytes([V2]): _codec(DICTIONARY_V2)}
CURRENT = V2


def encode(entry: dict[str, Any], session_id: str, version: int = CURRENT) -> bytes:
    """The stored form of ``entry`` (``version``: the current one unless a test asks for an
    older one), filed under ``session_id``."""
    raw = orjson.dumps(entry)
    if len(session_id) >= MIN_ID:
        raw = raw.replace(session_id.encode(), PLACEHOLDER)
    header = bytes([version])
    return header + _CODECS[header][0].compress(raw)


def decode(blob: bytes, session_id: str) -> dict[str, Any] | None:
    """The entry ``blob`` holds; None for an unknown version or bytes that do not decode."""
    try:
        codec = _CODECS.get(blob[:1])
        if codec is not None:
            raw = codec[1].decompress(blob[1:])
            if PLACEHOLDER in raw:
                raw = raw.replace(PLACEHOLDER, session_id.encode())
        elif blob[:1] == b"{":
            raw = blob
        else:
            return None
        entry = orjson.loads(raw)
    except (zstandard.ZstdError, ValueError, TypeError):
        return None
    return entry if isinstance(entry, dict) else None
