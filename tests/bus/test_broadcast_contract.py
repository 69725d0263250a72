"""The announcement contract (mcp.bus.broadcast), run against both backends.

For Redis, two hubs on one server stand for two processes: an announcement made through one
reaches the subscribers of the other.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from mcp.bus.broadcast import Broadcast, RedisBroadcast

WAIT = 5.0
QUIET = 0.3

MakeHub = Callable[[], Broadcast]


@pytest.fixture(params=["memory", "redis"])
async def make_hub(request: pytest.FixtureRequest) -> AsyncIterator[MakeHub]:
    hubs: list[Broadcast] = []
    prefix = f"bc{uuid.uuid4().hex[:8]}"
    shared = Broadcast()
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""

    def make() -> Broadcast:
        if not url:
            return shared  # one process: every "hub" is the process's one instance
        hub = RedisBroadcast(url=url, prefix=prefix)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.close()
    await shared.close()


async def test_an_announcement_reaches_every_open_subscription(make_hub: MakeHub) -> None:
    here, there = make_hub(), make_hub()
    first, second = here.subscribe(), there.subscribe()
    await first.ready()
    await second.ready()
    await here.announce({"kind": "tools"})
    assert await first.get(WAIT) == {"kind": "tools"}
    assert await second.get(WAIT) == {"kind": "tools"}


async def test_nothing_announced_before_subscribing_is_received(make_hub: MakeHub) -> None:
    hub = make_hub()
    early = hub.subscribe()
    await early.ready()
    await hub.announce({"kind": "prompts"})
    assert await early.get(WAIT) == {"kind": "prompts"}
    late = hub.subscribe()
    await late.ready()
    assert await late.get(QUIET) is None


async def test_a_closed_subscription_receives_nothing_more(make_hub: MakeHub) -> None:
    hub = make_hub()
    kept, closed = hub.subscribe(), hub.subscribe()
    await kept.ready()
    closed.close()
    await hub.announce({"kind": "resource", "uri": "test://x"})
    assert await kept.get(WAIT) == {"kind": "resource", "uri": "test://x"}
    assert await closed.get(QUIET) is None


async def test_announcements_keep_their_order(make_hub: MakeHub) -> None:
    hub = make_hub()
    subscription = hub.subscribe()
    await subscription.ready()
    for index in range(5):
        await hub.announce({"kind": "tools", "n": index})
    assert [(await subscription.get(WAIT) or {}).get("n") for _ in range(5)] == [0, 1, 2, 3, 4]
