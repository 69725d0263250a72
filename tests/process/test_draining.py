"""An SSE stream and draining (mcp.process.draining.until_drained): chunks pass through as the source
yields them; draining ends the stream with a retry hint and lets the source clean up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from django.conf import settings

from mcp.process import draining
from mcp.wire import sse


@pytest.fixture(autouse=True)
def not_draining() -> Iterator[None]:
    draining.reset()
    yield
    draining.reset()


class Source:
    """Yields ``chunks``, then waits for ever (as an idle GET stream does); records its end."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.waiting = asyncio.Event()
        self.ended: str | None = None

    async def __call__(self) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                yield chunk
            self.waiting.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.ended = "cancelled"
            raise
        finally:
            self.ended = self.ended or "closed"


async def test_chunks_pass_through_in_order_and_a_finished_source_ends_the_stream() -> None:
    async def finite() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    assert [chunk async for chunk in draining.until_drained(finite())] == [b"a", b"b"]


async def test_draining_ends_a_waiting_stream_with_a_retry_hint_and_the_source_cleans_up() -> None:
    source = Source(b"first")
    received: list[bytes] = []

    async def consume() -> str:
        async for chunk in draining.until_drained(source()):
            received.append(chunk)
        # The consumer itself is not cancelled: it goes on after the stream ends.
        await asyncio.sleep(0)
        return "consumer went on"

    consumer = asyncio.create_task(consume())
    await asyncio.wait_for(source.waiting.wait(), 2)
    draining.begin()
    assert await asyncio.wait_for(consumer, 2) == "consumer went on"
    assert received == [b"first", sse.retry(settings.MCP_SSE_RETRY_MS)]
    assert source.ended == "cancelled"


async def test_a_stream_opened_while_draining_is_only_the_retry_hint() -> None:
    draining.begin()
    source = Source(b"never")
    chunks = [chunk async for chunk in draining.until_drained(source())]
    assert chunks == [sse.retry(settings.MCP_SSE_RETRY_MS)]


async def test_a_client_going_away_closes_the_source() -> None:
    source = Source(b"first")
    stream = draining.until_drained(source())
    consumer = asyncio.create_task(anext(stream))
    assert await asyncio.wait_for(consumer, 2) == b"first"
    waiting = asyncio.create_task(anext(stream))
    await asyncio.wait_for(source.waiting.wait(), 2)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert source.ended == "cancelled"
    await stream.aclose()


async def test_a_timeout_raised_by_the_source_is_its_own_error_not_a_drain() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"a"
        raise TimeoutError("the source's own")

    stream = draining.until_drained(failing())
    assert await anext(stream) == b"a"
    with pytest.raises(TimeoutError, match="the source's own"):
        await anext(stream)
