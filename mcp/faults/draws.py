"""What one exchange gets from a profile: a deterministic draw (pure).

Exchange ``index`` (1 for the first exchange after the profile was set, counted atomically in
the store, so any node continues the same sequence) draws from a random generator seeded with
``"<seed>/<index>"``: the same seed and the same order of exchanges give the same faults,
whichever process serves them. Each fault of the profile draws in a fixed order, so the
outcome of one fault never depends on whether another one fired.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StreamFaults:
    """What happens to the SSE streams of one exchange."""

    drop_after: int | None = None
    resumable: bool = True
    drop_streams: str = "any"
    duplicate_event: int | None = None
    keepalive: str | None = None
    keepalive_interval: float = 120.0

    def drops(self, kind: str) -> bool:
        return self.drop_after is not None and self.drop_streams in ("any", kind)

    @property
    def active(self) -> bool:
        return self.drop_after is not None or self.duplicate_event is not None or self.keepalive is not None


@dataclass(frozen=True, slots=True)
class Draw:
    index: int
    seed: int
    latency_ms: int | None = None
    http_status: int | None = None
    retry_after: int = 1
    tool_error: str | None = None
    unauthorized: bool = False
    expire: bool = False
    burst: tuple[int, str] | None = None
    oversized: int | None = None
    ignore_log_level: bool = False
    streams: StreamFaults = StreamFaults()


def _hit(rng: random.Random, rate: float) -> bool:
    # Always consume one number, so a fault's outcome never shifts the ones after it.
    return rng.random() < rate


def draw(profile: dict[str, Any], index: int) -> Draw:
    """The faults exchange ``index`` gets under ``profile`` (normalized, see profile.normalize)."""
    seed = int(profile.get("seed", 0))
    rng = random.Random(f"{seed}/{index}")
    found: dict[str, Any] = {}
    latency = profile.get("latency")
    if latency is not None:
        hit = _hit(rng, latency["rate"])
        span = rng.randint(latency.get("minMs", 0), latency.get("maxMs", 0)) if "ms" not in latency else None
        if hit:
            found["latency_ms"] = latency["ms"] if span is None else span
    http_error = profile.get("httpError")
    if http_error is not None and _hit(rng, http_error["rate"]):
        found["http_status"] = http_error["status"]
        found["retry_after"] = http_error["retryAfter"]
    tool_error = profile.get("toolError")
    if tool_error is not None and _hit(rng, tool_error["rate"]):
        found["tool_error"] = tool_error["as"]
    for name in ("unauthorized", "expire"):
        one_shot = profile.get(name)
        if one_shot is not None and index == one_shot["after"] + 1:
            found[name] = True
    burst = profile.get("listChangedBurst")
    if burst is not None and index == burst["after"] + 1:
        found["burst"] = (burst["count"], burst["kind"])
    oversized = profile.get("oversized")
    if oversized is not None and _hit(rng, oversized["rate"]):
        found["oversized"] = oversized["bytes"]
    streams: dict[str, Any] = {}
    drop = profile.get("dropStream")
    if drop is not None and _hit(rng, drop["rate"]):
        streams.update(
            drop_after=drop["afterEvents"], resumable=drop["resumable"], drop_streams=drop["streams"]
        )
    duplicate = profile.get("duplicateEvent")
    if duplicate is not None and _hit(rng, duplicate["rate"]):
        streams["duplicate_event"] = duplicate["event"]
    keepalive = profile.get("keepAlive")
    if keepalive is not None:
        streams.update(keepalive=keepalive["mode"], keepalive_interval=float(keepalive["intervalSeconds"]))
    # Drawn last, so that the profiles without it keep the sequences they had.
    ignore_level = profile.get("ignoreLogLevel")
    if ignore_level is not None and _hit(rng, ignore_level["rate"]):
        found["ignore_log_level"] = True
    return Draw(index=index, seed=seed, streams=StreamFaults(**streams), **found)


def sequence(profile: dict[str, Any], count: int) -> list[Draw]:
    """The first ``count`` draws of ``profile`` (what setFaults previews)."""
    return [draw(profile, index) for index in range(1, count + 1)]


def summary(found: Draw) -> list[str]:
    """The fault kinds a draw holds, in the order the transport applies them."""
    kinds: list[str] = []
    if found.expire:
        kinds.append("expire")
    if found.unauthorized:
        kinds.append("unauthorized")
    if found.http_status is not None:
        kinds.append(f"http_{found.http_status}")
    if found.latency_ms is not None:
        kinds.append("latency")
    if found.burst is not None:
        kinds.append("list_changed_burst")
    if found.tool_error is not None:
        kinds.append("tool_error" if found.tool_error == "isError" else "rpc_error")
    if found.oversized is not None:
        kinds.append("oversized")
    if found.ignore_log_level:
        kinds.append("ignore_log_level")
    if found.streams.drop_after is not None:
        kinds.append("drop_stream")
    if found.streams.duplicate_event is not None:
        kinds.append("duplicate_event")
    if found.streams.keepalive is not None:
        kinds.append("keepalive")
    return kinds
