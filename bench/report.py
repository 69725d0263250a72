"""From the raw figures of one run to results.md, results.json and chart.svg.

Every cell is the median over rounds. A ratio compares a target with the bare ASGI ceiling
*in the same round* (median of the per-round ratios), so a machine that slows down between
rounds moves both sides; "ahead of peers" is likewise this project over the best peer of
the same round.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import chart
from bench.measures import MAIN_FIELD, OURS_ONE_CORE, WORKERS, median, peers_in, ratio, runs

TARGETS = [
    ("ours-memory", ("ratio", "S1", 0.25), "memory: S1 ≥ 0.25 of the ceiling"),
    ("ours-memory", ("max", "S1", "p99_ms", 10.0), "memory: S1 p99 ≤ 10 ms"),
    ("ours-memory", ("ratio", "S3", 0.25), "memory: S3 ≥ 0.25 of the ceiling"),
    ("ours-memory", ("max", "S4", "kib_per_session", 2.0), "memory: S4 ≤ 2 KiB per idle session"),
    ("ours-memory", ("max", "S5", "p99_ms", 5.0), "memory: S5 p99 < 5 ms"),
    ("ours-memory", ("ahead", "S1", 2.5), "memory: S1 ≥ 2.5x every peer"),
    ("ours-memory", ("ahead", "S3", 2.5), "memory: S3 ≥ 2.5x every peer"),
    ("ours-redis", ("ratio", "S1", 0.15), "Redis: S1 ≥ 0.15 of the ceiling"),
    (
        "ours-redis",
        ("max", "S4", "redis_bytes_per_session", 1024.0),
        "Redis: S4 ≤ 1 KiB of Redis memory per idle session",
    ),
    ("ours-redis", ("max", "S5", "p99_ms", 5.0), "Redis: S5 p99 < 5 ms"),
    ("ours-redis", ("ahead", "S1", 2.5), "Redis: S1 ≥ 2.5x every peer"),
    ("ours-redis", ("ahead", "S3", 2.5), "Redis: S3 ≥ 2.5x every peer"),
]


def fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def cell(outcome: dict, key: str, scenario: str) -> str:
    value = median(outcome, key, scenario, MAIN_FIELD[scenario])
    skipped = next((r["skipped"] for r in runs(outcome, key, scenario) if "skipped" in r), None)
    errors = [r["error"] for r in runs(outcome, key, scenario) if "error" in r]
    if value is None:
        return "skipped" if skipped else ("error" if errors else "-")
    text = fmt(value)
    if runs(outcome, "bare", scenario) and key != "bare":
        text += f" ({fmt(ratio(outcome, key, scenario), 2)})"
    return text


def check(outcome: dict, key: str, rule: tuple) -> tuple[str, bool | None]:
    kind = rule[0]
    if kind == "ratio":
        value = ratio(outcome, key, rule[1])
        return fmt(value, 2), None if value is None else value >= rule[2]
    if kind == "ahead":
        peers = peers_in(outcome)
        value = ratio(outcome, key, rule[1], peers) if peers else None
        return fmt(value, 2, "x"), None if value is None else value >= rule[2]
    value = median(outcome, key, rule[1], rule[2])
    return fmt(value, 2), None if value is None else value <= rule[3]


def row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def markdown(outcome: dict) -> str:
    keys = list(outcome["targets"])
    labels = {k: v["label"] for k, v in outcome["targets"].items()}
    plan, box = outcome["plan"], outcome["machine"]

    def med(key: str, scenario: str, field: str, digits: int = 0) -> str:
        return fmt(median(outcome, key, scenario, field), digits)

    lines = [
        f"# Benchmark results ({'smoke run' if outcome.get('smoke') else 'full run'}, {outcome['date']})",
        "",
        f"Machine: {box['cpus']} cores (shared with other jobs: absolute numbers are noisy, "
        "read the ratios), "
        f"Python {box['python']}, node {box['node']}, {box['wrk']}, Linux {box['kernel']}. "
        f"Server pinned to core 0, wrk, the setup client and redis-server to core 1. "
        f"{plan['rounds']} rounds, targets interleaved (order rotated each round), each cell the median; "
        "(x) = ratio to the bare ASGI ceiling measured in the same round. "
        f"Wall time {outcome['wall_seconds']} s.",
        "",
        f"S1: `tools/call echo` on 1 session, {plan['s1_connections']} connections, {plan['s1']:g} s. "
        f"S2: {plan['s2_sessions']} sessions, one connection each, {plan['s2']:g} s. "
        f"S3: initialize + initialized + DELETE cycles, {plan['s3_threads']} connections, {plan['s3']:g} s. "
        "S6: S1 as 2026-07-28 stateless requests. "
        "Requests/s count only 2xx answers with a JSON-RPC result.",
        "",
        "| server | S1 req/s | S1 p99 ms | S2 req/s | S2 p99 ms | S3 sessions/s | S6 req/s | S6 p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        if key in WORKERS:
            continue
        lines.append(
            row(
                labels[key],
                cell(outcome, key, "S1"),
                med(key, "S1", "p99_ms", 1),
                cell(outcome, key, "S2"),
                med(key, "S2", "p99_ms", 1),
                cell(outcome, key, "S3"),
                cell(outcome, key, "S6"),
                med(key, "S6", "p99_ms", 1),
            )
        )
    lines += [
        "",
        "The server's CPU time (user + system, read from /proc around each wrk run) per good "
        "answer: what each answer costs the server's core (time other jobs take from that core "
        "is not counted in it, as it is in throughput).",
        "",
        "| server | S1 µs/request | S3 µs/session | S6 µs/request |",
        "|---|---:|---:|---:|",
    ]
    for key in keys:
        if key in WORKERS or key == "bare":
            continue
        cpu = [med(key, scenario, "cpu_us") for scenario in ("S1", "S3", "S6")]
        lines.append(row(labels[key], *cpu))
    idle = [k for k in keys if runs(outcome, k, "S4") or runs(outcome, k, "S5")]
    if idle:
        lines += [
            "",
            f"S4: {plan['s4_tranches']} tranches of {plan['s4_tranche']:,} idle sessions after "
            f"{plan['s4_warm']:,} warm-up ones; growth of the server's RSS (and Redis `used_memory`) "
            "per session, median of the tranches. "
            f"S5: {plan['s5_probes']} probes on an idle server: from sending the POST whose tool emits a "
            "notification on the session's GET stream to reading it there.",
            "",
            "| server | S4 KiB/session | S4 Redis bytes/session | RSS after DELETE of all, MiB "
            "| S5 p50 ms | S5 p99 ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key in idle:
            lines.append(
                row(
                    labels[key],
                    med(key, "S4", "kib_per_session", 2),
                    med(key, "S4", "redis_bytes_per_session"),
                    med(key, "S4", "rss_after_delete_mib", 1),
                    med(key, "S5", "p50_ms", 2),
                    med(key, "S5", "p99_ms", 2),
                )
            )
    if all(k in outcome["results"] for k in WORKERS):
        one, two = WORKERS
        lines += [
            "",
            "Workers (Redis mode): the server, wrk and redis-server all share both cores (no pinning apart), "
            "1 worker against 2.",
            "",
            "| server | S1 req/s | S1 p99 ms | S3 sessions/s |",
            "|---|---:|---:|---:|",
        ]
        for key in WORKERS:
            lines.append(
                row(
                    labels[key],
                    med(key, "S1", "rps"),
                    med(key, "S1", "p99_ms", 1),
                    med(key, "S3", "sessions_s"),
                )
            )
        lines.append(
            f"| 2 workers / 1 worker | {fmt(ratio(outcome, two, 'S1', one), 2, 'x')} | "
            f"| {fmt(ratio(outcome, two, 'S3', one), 2, 'x')} |"
        )
    revisions = sorted({k.split("@", 1)[1] for k in keys if "@" in k})
    if revisions:
        lines += [
            "",
            "This checkout against older revisions of the project, same run (median of the "
            "per-round ratios checkout / revision):",
            "",
            "| checkout against | S1 memory | S3 memory | S1 Redis | S3 Redis |",
            "|---|---:|---:|---:|---:|",
        ]
        for revision in revisions:
            speedups = [
                fmt(ratio(outcome, mode, scenario, f"{mode}@{revision}"), 2, "x")
                for mode in OURS_ONE_CORE
                for scenario in ("S1", "S3")
            ]
            lines.append(row(revision, *speedups))
    rules = [(k, r, d) for k, r, d in TARGETS if k in outcome["results"]]
    if rules and "bare" in outcome["results"]:
        lines += ["", "| target (issue 8) | measured | met |", "|---|---:|---|"]
        for key, rule, description in rules:
            value, met = check(outcome, key, rule)
            lines.append(row(description, value, "-" if met is None else ("yes" if met else "**no**")))
    notes = [f"- {v['label']}: {v['note']}" for v in outcome["targets"].values() if v["note"]]
    problems = [
        f"- {labels[k]} {s}: {r['error'] if 'error' in r else r['skipped']}"
        for k, by in outcome["results"].items()
        for s, rs in by.items()
        for r in rs[:1]
        if "error" in r or "skipped" in r
    ]
    for key, by in outcome["results"].items():
        for scenario, found in by.items():
            refused = sum(r.get("non2xx", 0) + r.get("bad", 0) + r.get("failed", 0) for r in found)
            broken = sum(r.get("socket_errors", 0) for r in found)
            if refused or broken:
                problems.append(
                    f"- {labels[key]} {scenario}: {refused} answers without a result "
                    f"(non-2xx, JSON-RPC errors, failed steps) and {broken} socket errors over all rounds"
                )
    if notes or problems:
        lines += ["", *notes, *problems]
    return "\n".join(lines) + "\n"


def write(outcome: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.md", out / "results.json", out / "chart.svg"]
    paths[0].write_text(markdown(outcome))
    paths[1].write_text(json.dumps(outcome, indent=1) + "\n")
    paths[2].write_text(chart.svg(outcome))
    return paths
