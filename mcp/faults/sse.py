"""Stream faults: a stream's SSE blocks, bent as a draw says (dropped, duplicated, silent).

``bend`` wraps any source of SSE blocks (one complete event or comment per item, as
``mcp.wire.sse`` writes them) and:
- drops the connection after N message events: resumable (a ``retry:`` hint, then close; the
  events keep their ids, so the client resumes with Last-Event-ID) or not (no ids and no
  priming event at all, so the client cannot resume and must retry the request);
- delivers the Nth message event twice, with the same id (the client must not act on it twice);
- sends no keep-alive comments at all, or at most one per ``keepalive_interval`` seconds.

``on_inject(kind)`` is called once per fault actually injected into this stream.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from mcp.faults.draws import StreamFaults
from mcp.wire import sse


def _is_comment(block: bytes) -> bool:
    return block.startswith(b":")


def _data_lines(block: bytes) -> list[bytes]:
    return [line for line in block.split(b"\n") if line.startswith(b"data:")]


def _is_message(block: bytes) -> bool:
    return any(line[5:].strip() for line in _data_lines(block))


def _without_ids(block: bytes) -> bytes:
    return b"\n".join(line for line in block.split(b"\n") if not line.startswith(b"id:"))


async def bend(
    events: AsyncIterator[bytes],
    faults: StreamFaults,
    kind: str,
    *,
    retry_ms: int,
    on_inject: Callable[[str], None],
) -> AsyncIterator[bytes]:
    """``events`` with this stream's faults applied (``kind``: "post" or "get")."""
    drop = faults.drops(kind)
    hide_ids = drop and not faults.resumable
    messages = 0
    last_write = time.monotonic()
    quiet_marked = False
    try:
        async for block in events:
            if _is_comment(block):
                silent = faults.keepalive == "none" or (
                    faults.keepalive == "slow" and time.monotonic() - last_write < faults.keepalive_interval
                )
                if silent:
                    if not quiet_marked:
                        quiet_marked = True
                        on_inject("keepalive")
                    continue
            elif _is_message(block):
                if drop and messages >= (faults.drop_after or 0):
                    on_inject("drop_stream")
                    if faults.resumable:
                        yield sse.retry(retry_ms)
                    return
                messages += 1
                if hide_ids:
                    block = _without_ids(block)
                yield block
                if faults.duplicate_event == messages:
                    on_inject("duplicate_event")
                    yield block
                last_write = time.monotonic()
                continue
            elif hide_ids and _data_lines(block):
                # A priming event exists only to carry an id: a non-resumable stream has none.
                continue
            yield block
            last_write = time.monotonic()
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
