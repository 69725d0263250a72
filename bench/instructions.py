"""``python -m bench.instructions``: instructions per exchange, counted by valgrind, in process.

Timings on a shared 2-core machine move by a factor of two from one minute to the next; an
instruction count does not (the same code, inputs and environment give the same count, however
busy the machine is). This runs ``bench.inproc`` under ``valgrind --tool=callgrind`` twice per
scenario, with N and 2N exchanges, and divides the difference of the totals by N: start-up
cancels out. Each ``--rev`` is exported from git to a temporary directory and measured with
this checkout's virtualenv, so revisions compare on the same interpreter and packages.

    python -m bench.instructions [--rev HEAD] [--rev 429be49 ...] [-n 1000]
        [--scenarios call,churn,modern,call-redis,churn-redis,modern-redis]

It needs valgrind (Debian's package) and, for the ``-redis`` scenarios, redis-server on the PATH (a
private one is started on a free port). Slow: about a minute per measurement.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
SCENARIOS = ("call", "churn", "modern", "call-redis", "churn-redis", "modern-redis")
TOTAL = re.compile(r"Collected\s*:\s*(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def export(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (with this checkout's bench/inproc.py, so every revision runs the
    same driver) in ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    shutil.copy(REPO / "bench" / "inproc.py", into / "bench" / "inproc.py")
    return into


def count(tree: Path, scenario: str, n: int, redis_url: str | None) -> int:
    """Instructions of one ``bench.inproc`` process (start-up included)."""
    name = scenario.removesuffix("-redis")
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        str(PYTHON),
        "-m",
        "bench.inproc",
        "--scenario",
        name,
        "-n",
        str(n),
    ]
    if scenario.endswith("-redis"):
        command += ["--redis-url", redis_url or ""]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_", "REDIS_", "DJANGO_"))}
    env["PYTHONHASHSEED"] = "0"
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    found = TOTAL.findall(done.stderr)
    if done.returncode != 0 or not found:
        sys.exit(f"callgrind run failed ({scenario}, n={n}):\n{done.stderr[-2000:]}")
    return int(found[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", action="append", help="git revision (repeatable; default HEAD)")
    parser.add_argument("-n", type=int, default=500, help="exchanges in the shorter run (a multiple of 500)")
    parser.add_argument("--scenarios", default="call,churn", help=f"comma list of {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        sys.exit(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    redis = None
    redis_url = None
    if any(s.endswith("-redis") for s in scenarios):
        port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        redis_url = f"redis://127.0.0.1:{port}/0"
        time.sleep(0.5)
    try:
        with tempfile.TemporaryDirectory(prefix="mcp-instructions-") as scratch:
            # churn counts one session (initialize, initialized, DELETE); the others one request.
            print("| revision | " + " | ".join(scenarios) + " |")
            print("|---|" + "---:|" * len(scenarios))
            for rev in args.rev or ["HEAD"]:
                tree = export(rev, Path(scratch) / rev.replace("/", "_"))
                cells = []
                for scenario in scenarios:
                    short = count(tree, scenario, args.n, redis_url)
                    long = count(tree, scenario, 2 * args.n, redis_url)
                    cells.append(f"{(long - short) / args.n:,.0f}")
                print(f"| {rev} | " + " | ".join(cells) + " |", flush=True)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()


if __name__ == "__main__":
    main()
