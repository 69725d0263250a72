"""What one benchmark run measured, read back: the targets' groups and medians and ratios over
rounds. Shared by the report (results.md) and the chart (chart.svg); imports neither."""

from __future__ import annotations

import statistics

PEERS = ("sdk-json", "sdk-sse", "seed", "ts-sse", "ts-json")
OURS_ONE_CORE = ("ours-memory", "ours-redis")
WORKERS = ("ours-redis-1w", "ours-redis-2w")

# (target, check, description): the targets, one worker on one core.
MAIN_FIELD = {"S1": "rps", "S2": "rps", "S3": "sessions_s", "S6": "rps"}


def runs(outcome: dict, key: str, scenario: str) -> list[dict]:
    return outcome["results"].get(key, {}).get(scenario, [])


def median(outcome: dict, key: str, scenario: str, field: str) -> float | None:
    values = [r[field] for r in runs(outcome, key, scenario) if isinstance(r.get(field), int | float)]
    return statistics.median(values) if values else None


def per_round(outcome: dict, key: str, scenario: str) -> list[float | None]:
    field = MAIN_FIELD[scenario]
    return [
        r.get(field) if isinstance(r.get(field), int | float) else None for r in runs(outcome, key, scenario)
    ]


def ratio(outcome: dict, key: str, scenario: str, versus: str | tuple[str, ...] = "bare") -> float | None:
    """Median over rounds of key / versus (the best of ``versus`` when several), same round."""
    mine = per_round(outcome, key, scenario)
    others = [per_round(outcome, v, scenario) for v in ((versus,) if isinstance(versus, str) else versus)]
    others = [o for o in others if o]
    if not mine or not others:
        return None
    found = []
    for index, value in enumerate(mine):
        rivals = [o[index] for o in others if index < len(o) and o[index]]
        if value is not None and rivals:
            found.append(value / max(rivals))
    return statistics.median(found) if found else None


def peers_in(outcome: dict) -> tuple[str, ...]:
    return tuple(p for p in PEERS if p in outcome["results"])
