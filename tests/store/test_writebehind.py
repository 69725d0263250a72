"""The write-behind batcher: one write per event-loop turn, read-your-writes, failures logged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mcp.store.writebehind import WriteBehind


class Recorder:
    def __init__(self, *, fail: int = 0, pause: asyncio.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail
        self.pause = pause

    async def write(self, batch: list[int]) -> None:
        if self.pause is not None:
            await self.pause.wait()
        await asyncio.sleep(0)
        if self.fail:
            self.fail -= 1
            raise ConnectionError("redis at 10.0.0.1:6379 refused, password=hunter2")
        self.batches.append(batch)


async def test_what_is_added_in_one_turn_is_one_batch_written_in_the_next() -> None:
    recorder = Recorder()
    writes = WriteBehind(recorder.write, what="traffic")
    for n in range(50):
        writes.add(n)
    assert recorder.batches == []
    await writes.flush()
    assert recorder.batches == [list(range(50))]


async def test_items_added_during_a_write_make_the_next_batch_in_order() -> None:
    pause = asyncio.Event()
    recorder = Recorder(pause=pause)
    writes = WriteBehind(recorder.write, what="traffic")
    writes.add(1)
    await asyncio.sleep(0)  # the flusher takes [1] and waits on the store
    writes.add(2)
    writes.add(3)
    pause.set()
    await writes.flush()
    assert recorder.batches == [[1], [2, 3]]


async def test_flush_waits_for_the_batch_in_flight_and_the_queued_one() -> None:
    pause = asyncio.Event()
    recorder = Recorder(pause=pause)
    writes = WriteBehind(recorder.write, what="traffic")
    writes.add(1)
    await asyncio.sleep(0)
    writes.add(2)
    flushed = asyncio.create_task(writes.flush())
    await asyncio.sleep(0.01)
    assert not flushed.done()
    pause.set()
    await flushed
    assert recorder.batches == [[1], [2]]


async def test_flush_with_nothing_queued_returns_at_once() -> None:
    writes = WriteBehind(Recorder().write, what="traffic")
    await asyncio.wait_for(writes.flush(), 1)


async def test_a_failed_batch_is_logged_without_detail_and_later_ones_are_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder(fail=1)
    writes = WriteBehind(recorder.write, what="traffic")
    writes.add(1)
    with caplog.at_level(logging.WARNING, "mcp.store"):
        await writes.flush()
    writes.add(2)
    await writes.flush()
    assert recorder.batches == [[2]]
    assert "traffic not written: " in caplog.text
    assert "hunter2" not in caplog.text and "Traceback" not in caplog.text


def test_a_flusher_whose_event_loop_ended_does_not_block_the_next_loop() -> None:
    recorder = Recorder()
    writes = WriteBehind(recorder.write, what="traffic")

    async def add_and_leave() -> None:
        writes.add(1)

    async def add_and_flush() -> None:
        writes.add(2)
        await writes.flush()

    # The first loop ends with its batch in flight (cancelled: lost, as documented).
    asyncio.run(add_and_leave())
    asyncio.run(asyncio.wait_for(add_and_flush(), 1))
    assert recorder.batches == [[2]]


class Submitter:
    """A store whose ``write`` queues its command at once (as the Redis store's does)."""

    def __init__(self) -> None:
        self.sent: list[list[int]] = []

    def write(self, batch: list[int]) -> asyncio.Future[None]:
        self.sent.append(batch)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_with_a_delay_what_is_queued_waits_for_the_stores_next_command() -> None:
    store = Submitter()
    writes = WriteBehind(store.write, what="traffic", delay=3600)
    writes.add(1)
    writes.add(2)
    await asyncio.sleep(0.01)
    assert store.sent == []
    writes.send()  # the store is about to send a command: the batch goes first
    assert store.sent == [[1, 2]]
    writes.send()
    assert store.sent == [[1, 2]]


async def test_with_a_delay_and_no_command_the_batch_goes_when_it_expires() -> None:
    store = Submitter()
    writes = WriteBehind(store.write, what="traffic", delay=0.02)
    writes.add(1)
    await asyncio.sleep(0.1)
    assert store.sent == [[1]]
    writes.add(2)
    await writes.flush()  # a reader does not wait for the delay
    assert store.sent == [[1], [2]]
