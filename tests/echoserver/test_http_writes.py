"""A response's head and first body part leave in one socket write (echoserver.http_writes),
checked on the transport uvicorn's protocol writes to."""

from __future__ import annotations

import asyncio

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from echoserver.http_limits import HeaderLimitedHttpTools
from echoserver.http_writes import HeadHeld


class Transport(asyncio.Transport):
    """Records what is written and whether it was closed."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default=None):
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 3000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def test_head_and_body_written_in_one_turn_leave_together() -> None:
    raw = Transport()
    held = HeadHeld(raw)
    held.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert raw.writes == []
    held.write(b"body")
    held.write(b"more")
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"more"]
    await asyncio.sleep(0)
    assert raw.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"more"]


async def test_a_head_whose_body_comes_later_is_sent_within_the_turn() -> None:
    raw = Transport()
    held = HeadHeld(raw)
    held.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
    await asyncio.sleep(0)
    assert raw.writes == [b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"]
    held.write(b"event one")
    assert raw.writes[-1] == b"event one"


async def test_closing_sends_what_is_held_first() -> None:
    raw = Transport()
    held = HeadHeld(raw)
    held.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    held.close()
    assert raw.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert raw.closed
    await asyncio.sleep(0)
    assert len(raw.writes) == 1


async def app(scope, receive, send) -> None:
    await receive()
    if scope["path"] == "/stream":
        stream = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": stream})
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def protocol(raw: Transport) -> HeaderLimitedHttpTools:
    config = Config(app=app, http=HeaderLimitedHttpTools, lifespan="off", access_log=False)
    config.load()
    proto = HeaderLimitedHttpTools(config=config, server_state=ServerState(), app_state={})
    proto.connection_made(raw)
    return proto


async def settle(raw: Transport, expect: bytes) -> None:
    for _ in range(200):
        if expect in b"".join(raw.writes):
            return
        await asyncio.sleep(0.005)
    pytest.fail(f"{expect!r} never written: {raw.writes!r}")


async def test_the_console_scripts_protocol_answers_in_one_write() -> None:
    raw = Transport()
    proto = protocol(raw)
    proto.data_received(b"GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\n\r\n")
    await settle(raw, b"ok" * 1)
    await asyncio.sleep(0.05)
    answers = [w for w in raw.writes if w.startswith(b"HTTP/1.1 200")]
    assert len(answers) == 2, raw.writes
    assert all(w.endswith(b"\r\n\r\nok") for w in answers)
    assert len(raw.writes) == 2
    proto.connection_lost(None)


async def test_a_streamed_answers_head_leaves_before_its_first_event() -> None:
    raw = Transport()
    proto = protocol(raw)
    proto.data_received(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
    await settle(raw, b"text/event-stream")
    assert b"data: 1" not in b"".join(raw.writes)
    await settle(raw, b"0\r\n\r\n")
    assert b"".join(raw.writes).index(b"data: 1") > b"".join(raw.writes).index(b"\r\n\r\n")
    proto.connection_lost(None)
