"""``python -m bench`` (or ``bash bench/run.sh``): run the benchmark, write the results.

Rounds interleave the targets (the order rotates each round), each started fresh, warmed
up, then S1, S2, S3 and S6 once. Then S5 and S4 on one fresh server per target. The report
(bench/results/results.md, results.json, chart.svg) gives medians over rounds, and ratios to
the bare ASGI ceiling measured in the same round. ``SMOKE=1`` (or ``--smoke``) runs one
short round against this project only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from bench import install, procs, report, scenarios
from bench.client import Client
from bench.targets import CLIENT_CPUS, DEFAULT, REPO, SMOKE, TARGETS, VAR, Target, at_revision

RESULTS = REPO / "bench" / "results"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextlib.contextmanager
def serve(target: Target, redis: procs.Running | None, raw: Path) -> Iterator[scenarios.Server]:
    """The target, started fresh on a free port and answering initialize; stopped afterwards."""
    redis_port = redis.port if redis is not None else 0
    if target.redis:
        assert redis is not None
        procs.redis_command(redis_port, "FLUSHALL")
    port = procs.free_port()
    data_dir = VAR / "data" / target.key
    data_dir.mkdir(parents=True, exist_ok=True)
    running = procs.start(
        procs.pinned(target.server_cpus, target.command(port)),
        port=port,
        log=raw / f"{target.key}-server-{port}.log",
        env=target.environment(port, redis_port, data_dir),
        cwd=target.cwd,
    )
    try:
        client = Client(port)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.open_session()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        client.close()
        yield scenarios.Server(target, running, redis_port, raw)
    finally:
        running.stop()


def attempt(results: dict, key: str, name: str, action) -> None:
    try:
        figures = action()
    except Exception as exc:
        traceback.print_exc()
        figures = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    results.setdefault(key, {}).setdefault(name, []).append(figures)
    shown = {
        k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items() if not isinstance(v, list)
    }
    log(f"  {key} {name}: {shown}")


def run(targets: list[Target], plan: scenarios.Plan, raw: Path) -> dict:
    results: dict[str, dict[str, list[dict]]] = {}
    rounds: list[list[str]] = []
    redis = procs.start_redis(VAR / "redis", CLIENT_CPUS) if any(t.redis for t in targets) else None
    try:
        for number in range(plan.rounds):
            shift = number % len(targets)
            order = targets[shift:] + targets[:shift]
            rounds.append([t.key for t in order])
            log(f"round {number + 1}/{plan.rounds}: {', '.join(t.key for t in order)}")
            for target in order:
                loaded = [s for s in ("S1", "S2", "S3", "S6") if s in target.scenarios]
                if not loaded:
                    continue
                try:
                    with serve(target, redis, raw) as server:
                        scenarios.warmup(server, plan)
                        for name in loaded:
                            attempt(
                                results,
                                target.key,
                                name,
                                lambda f=scenarios.LOADED[name], s=server: f(s, plan),
                            )
                except Exception as exc:
                    traceback.print_exc()
                    for name in loaded:
                        results.setdefault(target.key, {}).setdefault(name, []).append(
                            {"error": str(exc)[:300]}
                        )
        for target in targets:
            idle = [s for s in ("S5", "S4") if s in target.scenarios and (s != "S5" or target.s5_call)]
            if not idle:
                continue
            log(f"{target.key}: {', '.join(idle)}")
            try:
                with serve(target, redis, raw) as server:
                    if "S5" in idle:
                        attempt(results, target.key, "S5", lambda s=server: scenarios.s5(s, plan))
                    if "S4" in idle:
                        attempt(results, target.key, "S4", lambda s=server: scenarios.s4(s, plan))
            except Exception as exc:
                traceback.print_exc()
                for name in idle:
                    results.setdefault(target.key, {}).setdefault(name, []).append({"error": str(exc)[:300]})
    finally:
        if redis is not None:
            redis.stop()
    return {"rounds": rounds, "results": results}


def machine() -> dict:
    def version(command: list[str]) -> str:
        try:
            return (
                subprocess.run(command, capture_output=True, text=True, timeout=10)
                .stdout.strip()
                .splitlines()[0]
            )
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "node": version(["node", "--version"]),
        "wrk": " ".join(version(["wrk", "--version"]).split()[:2]),
        "kernel": platform.release(),
    }


def export_revision(revision: str) -> Path:
    """The project's files at ``revision`` (git archive), under var/bench/revisions."""
    target = VAR / "revisions" / revision
    if not (target / "echoserver").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", revision], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("SMOKE") == "1",
        help="one short round, this project only (also SMOKE=1)",
    )
    parser.add_argument("--targets", help=f"comma list of {', '.join(TARGETS)}")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; smoke 1)")
    parser.add_argument("--seconds", type=float, help="length of each S1 run (others scale with it)")
    parser.add_argument("--skip", default="", help="comma list of scenarios to leave out, e.g. S4,S5")
    parser.add_argument(
        "--baseline",
        default="",
        help="comma list of git revisions of this project to measure beside the checkout (S1, S3)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results.md/json and chart.svg go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    # Stopped from outside: still stop the servers (the finally blocks), not just this process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = scenarios.SMOKE if args.smoke else scenarios.Plan()
    if args.rounds:
        plan = replace(plan, rounds=args.rounds)
    if args.seconds:
        scale = args.seconds / plan.s1
        plan = replace(plan, s1=args.seconds, s2=plan.s2 * scale, s3=plan.s3 * scale, s6=plan.s6 * scale)
    keys = args.targets.split(",") if args.targets else list(SMOKE if args.smoke else DEFAULT)
    unknown = [k for k in keys if k not in TARGETS]
    if unknown:
        sys.exit(f"unknown targets {unknown}; known: {', '.join(TARGETS)}")
    skip = {s.strip().upper() for s in args.skip.split(",") if s.strip()}
    targets = [
        replace(TARGETS[k], scenarios=tuple(s for s in TARGETS[k].scenarios if s not in skip)) for k in keys
    ]

    for revision in filter(None, args.baseline.split(",")):
        source = export_revision(revision)
        targets += [at_revision(k, revision, source) for k in ("ours-memory", "ours-redis") if k in keys]
    if procs.cpu_count() >= 2:
        os.sched_setaffinity(0, {int(CLIENT_CPUS)})  # the setup client stays off the server's core
    install.prepare({t.venv for t in targets})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw = args.out / "raw" / stamp
    raw.mkdir(parents=True, exist_ok=True)
    started = time.time()
    log(f"targets: {', '.join(keys)}; plan: {plan}")
    outcome = run(targets, plan, raw)
    outcome.update(
        {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
            "wall_seconds": round(time.time() - started),
            "plan": plan.__dict__,
            "smoke": args.smoke,
            "machine": machine(),
            "targets": {t.key: {"label": t.label, "note": t.note, "ours": t.ours} for t in targets},
        }
    )
    (raw / "results.json").write_text(json.dumps(outcome, indent=1))
    written = report.write(outcome, args.out)
    log(f"done in {outcome['wall_seconds']}s: {', '.join(str(p) for p in written)}")
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
