"""The scenarios, each a function of a running server; each returns a flat dict of figures.

- S1 steady ``tools/call echo`` on one session, 32 connections (wrk, call.lua);
- S2 the same over 200 sessions, one connection each;
- S3 session churn: initialize, notifications/initialized, DELETE (wrk, churn.lua);
- S4 memory per idle session: server RSS (and Redis ``used_memory``) growth per session;
- S5 latency from the POST that makes the server emit a notification to its arrival on the
  session's open GET stream;
- S6 S1 in the 2026-07-28 era: stateless requests (skipped when ``server/discover`` is not
  answered).

Throughput counts only good answers (2xx with a JSON-RPC ``result``); the dicts also carry
what went wrong (non-2xx, 2xx without a result, socket errors).
"""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.client import VERSION, Client, EventStream, jsonrpc
from bench.targets import Target


@dataclass(frozen=True)
class Plan:
    rounds: int = 3
    warmup: float = 2.0
    s1: float = 8.0
    s2: float = 5.0
    s3: float = 5.0
    s6: float = 5.0
    s1_connections: int = 32
    s2_sessions: int = 200
    s3_threads: int = 8
    s4_warm: int = 300
    s4_tranche: int = 1500
    s4_tranches: int = 3
    s4_threads: int = 8
    s5_probes: int = 200


SMOKE = Plan(
    rounds=1,
    warmup=0.0,
    s1=2.0,
    s2=2.0,
    s3=2.0,
    s6=2.0,
    s2_sessions=20,
    s4_warm=50,
    s4_tranche=200,
    s4_tranches=2,
    s5_probes=20,
)


@dataclass
class Server:
    """What a scenario needs to know about the server it measures."""

    target: Target
    running: procs.Running
    redis_port: int
    raw: Path  # where wrk's output of this server's runs goes

    @property
    def port(self) -> int:
        return self.running.port


def sessions_file(server: Server, count: int, name: str) -> Path:
    client = Client(server.port)
    try:
        ids = [client.open_session() for _ in range(count)]
    finally:
        client.close()
    path = server.raw / f"{name}-sessions.txt"
    path.write_text("\n".join(ids) + "\n")
    return path


def cpu_us(summary: dict, count: float) -> float | None:
    """The server's CPU time (user + system, its workers included) per ``count``, in µs."""
    spent = summary.get("server_cpu_s")
    return spent / count * 1e6 if spent is not None and count else None


def throughput(summary: dict) -> dict:
    seconds = summary["seconds"] or 1.0
    return {
        "rps": summary.get("ok", 0) / seconds,
        "cpu_us": cpu_us(summary, summary.get("ok", 0)),
        "p50_ms": summary["p50_us"] / 1000,
        "p99_ms": summary["p99_us"] / 1000,
        "non2xx": summary.get("non2xx", 0),
        "bad": summary.get("bad", 0),
        "socket_errors": summary["socket_errors"],
    }


def wrk(
    server: Server, script: str, name: str, seconds: float, connections: int, threads: int = 1, **env: str
) -> dict:
    before = server.running.cpu_seconds()
    summary = procs.run_wrk(
        server.port,
        script,
        threads=threads,
        connections=connections,
        seconds=seconds,
        env={"BENCH_VERSION": VERSION, **env},
        cpus=server.target.client_cpus,
        log=server.raw / f"{name}-{time.strftime('%H%M%S')}.txt",
    )
    summary["server_cpu_s"] = server.running.cpu_seconds() - before
    return summary


def warmup(server: Server, plan: Plan) -> None:
    if plan.warmup > 0:
        path = sessions_file(server, 1, "warmup")
        wrk(server, "call.lua", "warmup", plan.warmup, plan.s1_connections, BENCH_SESSIONS=str(path))


def s1(server: Server, plan: Plan) -> dict:
    path = sessions_file(server, 1, "s1")
    return throughput(wrk(server, "call.lua", "s1", plan.s1, plan.s1_connections, BENCH_SESSIONS=str(path)))


def s2(server: Server, plan: Plan) -> dict:
    path = sessions_file(server, plan.s2_sessions, "s2")
    return throughput(wrk(server, "call.lua", "s2", plan.s2, plan.s2_sessions, BENCH_SESSIONS=str(path)))


def s3(server: Server, plan: Plan) -> dict:
    summary = wrk(server, "churn.lua", "s3", plan.s3, plan.s3_threads, threads=plan.s3_threads)
    seconds = summary["seconds"] or 1.0
    # A server without DELETE is counted by cycles (its sessions are never freed).
    counted = summary.get("sessions" if server.target.deletes else "cycles", 0)
    return {
        "sessions_s": counted / seconds,
        "cycles_s": summary.get("cycles", 0) / seconds,
        "cpu_us": cpu_us(summary, counted),
        "failed": summary.get("failed", 0),
        "p99_ms": summary["p99_us"] / 1000,
        "socket_errors": summary["socket_errors"],
    }


def s6(server: Server, plan: Plan) -> dict:
    client = Client(server.port)
    try:
        modern = client.answers_modern()
    finally:
        client.close()
    if not modern:
        return {"skipped": "the server does not answer server/discover (no 2026-07-28 era)"}
    return throughput(wrk(server, "call.lua", "s6", plan.s6, plan.s1_connections, BENCH_ERA="modern"))


def s4(server: Server, plan: Plan) -> dict:
    """RSS (and Redis memory) growth per idle session, median over tranches; then DELETE all."""

    def create(count: int) -> list[str]:
        def batch(size: int) -> list[str]:
            client = Client(server.port)
            try:
                return [client.open_session() for _ in range(size)]
            finally:
                client.close()

        sizes = [count // plan.s4_threads + (i < count % plan.s4_threads) for i in range(plan.s4_threads)]
        with ThreadPoolExecutor(plan.s4_threads) as pool:
            return [sid for ids in pool.map(batch, sizes) for sid in ids]

    def settle() -> tuple[int, int]:
        time.sleep(1.0)
        redis = procs.redis_used_memory(server.redis_port) if server.target.redis else 0
        return server.running.rss_kib(), redis

    sessions = create(plan.s4_warm)
    rss, redis = settle()
    per_session, redis_per_session, rates = [], [], []
    for _ in range(plan.s4_tranches):
        started = time.perf_counter()
        sessions += create(plan.s4_tranche)
        rates.append(plan.s4_tranche / (time.perf_counter() - started))
        rss_after, redis_after = settle()
        per_session.append((rss_after - rss) / plan.s4_tranche)
        redis_per_session.append((redis_after - redis) / plan.s4_tranche)
        rss, redis = rss_after, redis_after
    result = {
        "kib_per_session": statistics.median(per_session),
        "tranches_kib": [round(v, 2) for v in per_session],
        "sessions_created_s": statistics.median(rates),
        "rss_mib": rss / 1024,
    }
    if server.target.redis:
        result["redis_bytes_per_session"] = statistics.median(redis_per_session)
    if server.target.deletes:

        def drop(ids: list[str]) -> None:
            client = Client(server.port)
            try:
                for sid in ids:
                    client.delete(sid)
            finally:
                client.close()

        chunks = [sessions[i :: plan.s4_threads] for i in range(plan.s4_threads)]
        with ThreadPoolExecutor(plan.s4_threads) as pool:
            list(pool.map(drop, chunks))
        result["rss_after_delete_mib"] = settle()[0] / 1024
    return result


def s5(server: Server, plan: Plan) -> dict:
    """POST (tool that emits on the GET stream) sent -> the message read from the GET stream."""
    assert server.target.s5_call is not None
    tool, arguments = server.target.s5_call
    client = Client(server.port)
    session = client.open_session()
    stream = EventStream(server.port, session)
    delays, missed = [], 0
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Mcp-Session-Id": session,
        "MCP-Protocol-Version": VERSION,
    }
    try:
        for number in range(plan.s5_probes):
            body = jsonrpc(number + 10, "tools/call", {"name": tool, "arguments": arguments})
            started = time.perf_counter()
            client.conn.request("POST", "/mcp", body=json.dumps(body).encode(), headers=headers)
            try:
                arrived = stream.wait_for(server.target.s5_needle, timeout=5.0)
                delays.append((arrived - started) * 1000)
            except (TimeoutError, OSError):
                missed += 1
            client.conn.getresponse().read()
    finally:
        stream.close()
        client.close()
    if not delays:
        return {"missed": missed, "p50_ms": None, "p99_ms": None}
    delays.sort()
    return {
        "p50_ms": statistics.median(delays),
        "p99_ms": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
        "max_ms": delays[-1],
        "missed": missed,
    }


LOADED = {"S1": s1, "S2": s2, "S3": s3, "S6": s6}
