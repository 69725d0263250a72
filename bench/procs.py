"""Processes the bench starts: servers pinned to a core, a private redis-server, wrk.

Every process is started in its own process group and stopped by that group's id, so a
server's workers and children go with it; nothing else on the machine is touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT = 60.0


class ProcessError(RuntimeError):
    """A process did not start or did not answer; the message names its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def pinned(cpus: str | None, command: list[str]) -> list[str]:
    """``taskset -c cpus command`` (no pinning on a one-core machine or without taskset)."""
    if not cpus or cpu_count() < 2 or shutil.which("taskset") is None:
        return command
    return ["taskset", "-c", cpus, *command]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProcessError(f"exited with {process.returncode} before listening; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ProcessError(f"not listening on {port} after {timeout:.0f}s; see {log}")


@dataclass
class Running:
    """A started process (group) and where its output goes."""

    process: subprocess.Popen
    port: int
    log: Path
    handle: object = field(repr=False, default=None)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        if self.handle is not None:
            self.handle.close()

    def tree(self) -> list[int]:
        """The process and all its descendants (workers)."""
        return [self.pid, *_descendants(self.pid)]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the process and its descendants have used so far."""
        return sum(_cpu(pid) for pid in self.tree())

    def rss_kib(self) -> int:
        """Resident memory of the process and all its descendants (workers), in KiB."""
        return sum(_rss(pid) for pid in self.tree())


def start(command: list[str], *, port: int, log: Path, env: dict[str, str], cwd: Path) -> Running:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("wb")
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = Running(process, port, log, handle)
    try:
        wait_for_port(port, process, log)
    except ProcessError:
        running.stop()
        raise
    return running


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu(pid: int) -> float:
    try:
        # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            pending.append(child)
    return found


# --- Redis -----------------------------------------------------------------------------------


def start_redis(directory: Path, cpus: str | None) -> Running:
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if binary is None:
        raise ProcessError("redis-server is not installed (apt-get install redis-server)")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]
    return start(
        pinned(cpus, command),
        port=port,
        log=directory / f"redis-{port}.log",
        env=dict(os.environ),
        cwd=directory,
    )


def redis_command(port: int, *args: str) -> bytes:
    """One command over RESP on a fresh connection; the raw reply (enough for INFO and FLUSHALL)."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload.encode())
        data = sock.recv(65536)
        if data.startswith(b"$"):
            size = int(data[1 : data.index(b"\r\n")])
            while len(data) < size + len(str(size)) + 5:
                data += sock.recv(65536)
        return data


def redis_used_memory(port: int) -> int:
    for line in redis_command(port, "INFO", "memory").decode().splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise ProcessError("INFO memory has no used_memory")


# --- wrk -------------------------------------------------------------------------------------

LUA = Path(__file__).resolve().parent / "lua"


def run_wrk(
    port: int,
    script: str,
    *,
    threads: int,
    connections: int,
    seconds: float,
    env: dict[str, str],
    cpus: str | None,
    log: Path,
) -> dict:
    """Run wrk with one of bench/lua's scripts; the summary its done() prints, as a dict."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "-s",
        script,
        f"http://127.0.0.1:{port}/mcp",
    ]
    done = subprocess.run(
        pinned(cpus, command),
        cwd=LUA,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(done.stdout + done.stderr)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            summary = json.loads(line[len("BENCH_JSON ") :])
            summary["seconds"] = summary["duration_us"] / 1e6
            return summary
    raise ProcessError(f"wrk printed no summary (exit {done.returncode}); see {log}")
