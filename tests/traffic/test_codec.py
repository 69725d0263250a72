"""Traffic entries as stored: compact, read back exactly, and never a crash on odd bytes."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import orjson
import pytest
from django.core.cache.backends.locmem import LocMemCache

from mcp.store.memory import MemorySessionStore
from mcp.store.redis import RedisSessionStore, frame, unframe
from mcp.traffic import codec as traffic_codec
from mcp.traffic import record as traffic

SID = "0123456789abcdef0123456789abcdef"


def entry(**overrides: object) -> dict:
    fields: dict = {
        "t": 1795969229.553817,
        "ms": 67.528,
        "http": "POST",
        "path": "/mcp",
        "status": 200,
        "method": "initialize",
        "request_id": 1,
        "headers": {"host": "127.0.0.1:3000", "content-type": "application/json"},
        "request": b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}',
        "response": b'{"jsonrpc":"2.0","id":1,"result":{}}',
        "response_headers": [("mcp-session-id", SID), ("x-request-id", "3dcb7afdc891")],
    }
    fields.update(overrides)
    return traffic.make_entry(**fields)


ENTRIES = [
    entry(),
    entry(method=None, request_id=None, request=None, response=None, http="GET", marks=["drop"]),
    entry(request='héllo ✓ \u2028 \\ " \x01'.encode(), response=f"echo {SID} {SID}".encode()),
    entry(request_id="req-7", era="legacy", path="/messages", status=202),
]


@pytest.mark.parametrize("stored", ENTRIES)
def test_an_entry_reads_back_exactly(stored: dict) -> None:
    blob = traffic_codec.encode(stored, SID)
    assert blob[0] == traffic_codec.V2
    assert SID.encode() not in blob
    assert traffic_codec.decode(blob, SID) == stored


@pytest.mark.parametrize("stored", ENTRIES)
def test_an_entry_written_in_version_1_still_reads_back(stored: dict) -> None:
    # Another process (Redis mode) or an earlier release may have written it.
    blob = traffic_codec.encode(stored, SID, version=traffic_codec.V1)
    assert blob[0] == traffic_codec.V1
    assert traffic_codec.decode(blob, SID) == stored


def test_a_call_entry_costs_fewer_bytes_in_version_2() -> None:
    # Version 2's dictionary holds the name/outcome/tool_error fields version 1's lacks.
    stored = entry(method="tools/call", name="echo", outcome="ok")
    v1 = traffic_codec.encode(stored, SID, version=traffic_codec.V1)
    assert len(traffic_codec.encode(stored, SID)) < len(v1)


def test_a_short_session_id_is_kept_as_it_is() -> None:
    stored = entry(request=b'{"a":"a"}')
    assert traffic_codec.decode(traffic_codec.encode(stored, "a"), "a") == stored


def test_this_servers_initialize_exchange_is_kept_in_a_few_dozen_bytes() -> None:
    from mcp.handlers.methods import initialize_result

    result = {"jsonrpc": "2.0", "id": 1, "result": initialize_result("2025-11-25")}
    stored = entry(response=orjson.dumps(result))
    assert len(orjson.dumps(stored)) > 1000
    assert len(traffic_codec.encode(stored, SID)) < 150


def test_an_entry_of_the_previous_format_plain_json_is_read() -> None:
    assert traffic_codec.decode(orjson.dumps(ENTRIES[0]), SID) == ENTRIES[0]


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x03" + b"future format",
        b"\x02not zstd",
        b"\x01not zstd",
        b"\x01",
        b"{not json",
        b"[1,2]",
        b"\xff\xfe",
    ],
)
def test_unknown_or_broken_bytes_read_as_nothing(blob: bytes) -> None:
    assert traffic_codec.decode(blob, SID) is None


@pytest.mark.parametrize(
    ("dictionary", "digest"),
    [
        ("DICTIONARY_V1", "dd36bb6d3c5858eadf3eb2c8b1bb0d09a0dc0afc28219a2cd4041436fd577999"),
        ("DICTIONARY_V2", "6bd0dddab8318ce2353b57b36bbc6680ec972c544e65f21e3717afa59286bdb9"),
    ],
)
def test_the_dictionaries_never_change(dictionary: str, digest: str) -> None:
    # Entries written with them are read by other processes and later releases: a change to
    # one is a new version byte with a new dictionary, never an edit of an old one.
    assert hashlib.sha256(getattr(traffic_codec, dictionary)).hexdigest() == digest


@pytest.mark.parametrize("sizes", [[0, 1, 127, 128, 300], [16_383, 16_384, 70_000], []])
def test_log_frames_split_back_into_the_same_byte_strings(sizes: list[int]) -> None:
    blobs = [bytes([n % 251]) * n for n in sizes]
    assert unframe(frame(blobs)) == blobs


def test_a_truncated_last_frame_is_left_out() -> None:
    assert unframe(frame([b"first", b"second"])[:-1]) == [b"first"]


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest):
    if request.param == "memory":
        made = MemorySessionStore(timeout=60, cache=LocMemCache(f"codec-{uuid.uuid4().hex}", {}))
    else:
        url = request.getfixturevalue("redis_url")
        made = RedisSessionStore(timeout=60, url=url, prefix=f"test-{uuid.uuid4().hex[:12]}")
    yield made
    if isinstance(made, RedisSessionStore):
        await made.reset()
    await made.close()


async def test_entries_round_trip_through_the_store_in_order(store, settings) -> None:
    settings.MCP_TRAFFIC_LOG = 3
    created = await store.create(
        protocol_version="2025-11-25", client_info={}, client_capabilities={}, client_addr="127.0.0.1"
    )
    for stored in ENTRIES:
        await traffic.record(store, created.id, stored)
    assert await traffic.recent(store, created.id) == ENTRIES[-3:]


async def test_a_stored_entry_that_does_not_decode_is_left_out(store, settings) -> None:
    created = await store.create(
        protocol_version="2025-11-25", client_info={}, client_capabilities={}, client_addr="127.0.0.1"
    )
    store.append_log(created.id, b"\x09written by a later release", cap=5)
    await traffic.record(store, created.id, ENTRIES[0])
    assert await traffic.recent(store, created.id) == [ENTRIES[0]]


async def test_entries_recorded_in_one_turn_are_read_back_at_once(store, settings) -> None:
    settings.MCP_TRAFFIC_LOG = 50
    sessions = [
        await store.create(
            protocol_version="2025-11-25", client_info={}, client_capabilities={}, client_addr="127.0.0.1"
        )
        for _ in range(5)
    ]
    for n, stored in enumerate(ENTRIES * 3):
        await traffic.record(store, sessions[n % 5].id, stored)
    # Read without waiting: the reader sees what this process recorded before it read.
    for n, session in enumerate(sessions):
        assert await traffic.recent(store, session.id) == (ENTRIES * 3)[n::5]


async def test_recorded_entries_reach_the_store_after_the_turn_without_a_reader(settings) -> None:
    store = MemorySessionStore(timeout=60, cache=LocMemCache(f"codec-{uuid.uuid4().hex}", {}))
    created = await store.create(
        protocol_version="2025-11-25", client_info={}, client_capabilities={}, client_addr="127.0.0.1"
    )
    await traffic.record(store, created.id, ENTRIES[0])
    await asyncio.sleep(0)
    assert [traffic_codec.decode(blob, created.id) for blob in await store.read_log(created.id)] == [
        ENTRIES[0]
    ]


async def test_an_entry_that_cannot_be_stored_is_logged_and_the_others_kept(
    store, caplog: pytest.LogCaptureFixture
) -> None:
    created = await store.create(
        protocol_version="2025-11-25", client_info={}, client_capabilities={}, client_addr="127.0.0.1"
    )
    await traffic.record(store, created.id, {"t": object()})
    await traffic.record(store, created.id, ENTRIES[0])
    assert await traffic.recent(store, created.id) == [ENTRIES[0]]
    assert "traffic not recorded: " in caplog.text and "Traceback" not in caplog.text
