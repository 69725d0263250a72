"""``python -m bench.profile``: flame graphs of this project's hot path under load.

For each target (default: memory and Redis mode) and scenario (S1, S3) the server is started
pinned as in the bench, wrk drives the scenario, and py-spy samples the server process
(non-blocking, from the client core) into ``bench/results/profiles/<target>-<scenario>.svg``.
A second py-spy writes the collapsed stacks, summarised in ``<target>-<scenario>.txt``: the
functions with the most samples, inclusive and self.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from bench import install, procs, scenarios
from bench.__main__ import RESULTS, log, serve
from bench.targets import CLIENT_CPUS, TARGETS, VAR, VENVS

PROFILES = RESULTS / "profiles"


def summary(collapsed: Path, top: int = 30) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return "no samples\n"

    def table(counter: collections.Counter[str], title: str) -> list[str]:
        rows = [f"{title} (of {total} samples)"]
        rows += [f"{100 * n / total:6.1f}%  {frame}" for frame, n in counter.most_common(top)]
        return rows

    return "\n".join([*table(inclusive, "inclusive"), "", *table(own, "self")]) + "\n"


def profile(
    key: str, scenario: str, seconds: float, rate: int, redis: procs.Running | None, raw: Path
) -> None:
    target = TARGETS[key]
    plan = replace(scenarios.Plan(), s1=seconds + 2, s3=seconds + 2)
    py_spy = str(VENVS / "tools" / "bin" / "py-spy")
    name = f"{key}-{scenario}"
    with serve(target, redis, raw) as server:
        scenarios.warmup(server, plan)
        collapsed = raw / f"{name}.collapsed"
        common = [
            "record",
            "--pid",
            str(server.running.pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            str(rate),
            "--nonblocking",
            "--subprocesses",
        ]
        recorders = [
            subprocess.Popen(
                procs.pinned(CLIENT_CPUS, [py_spy, *common, "--format", fmt, "-o", str(out)]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for fmt, out in (("flamegraph", PROFILES / f"{name}.svg"), ("raw", collapsed))
        ]
        load = threading.Thread(target=scenarios.LOADED[scenario], args=(server, plan))
        load.start()
        for recorder in recorders:
            _, err = recorder.communicate(timeout=seconds + 60)
            if recorder.returncode != 0:
                log(f"py-spy failed: {err.decode()[-500:]}")
        load.join()
    (PROFILES / f"{name}.txt").write_text(summary(collapsed))
    log(f"{PROFILES / name}.svg and .txt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--targets", default="ours-memory,ours-redis")
    parser.add_argument("--scenarios", default="S1,S3")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    args = parser.parse_args(argv)
    keys = args.targets.split(",")
    if procs.cpu_count() >= 2:
        os.sched_setaffinity(0, {int(CLIENT_CPUS)})
    install.prepare({"tools", *(TARGETS[k].venv for k in keys)})
    PROFILES.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / "raw" / ("profile-" + time.strftime("%Y%m%d-%H%M%S"))
    raw.mkdir(parents=True, exist_ok=True)
    redis = procs.start_redis(VAR / "redis", CLIENT_CPUS) if any(TARGETS[k].redis for k in keys) else None
    try:
        for key in keys:
            for scenario in args.scenarios.split(","):
                profile(key, scenario, args.seconds, args.rate, redis, raw)
    finally:
        if redis is not None:
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
