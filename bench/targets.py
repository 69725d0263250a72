"""The servers the bench measures: this project in three set-ups, the ceiling, and the peers.

``TARGETS`` is the registry; each entry says how to start the server on a port, which cores
it gets, and which scenarios it can take part in. The peers run from their own virtualenvs
or node folder under ``var/bench`` (see ``bench.install``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VAR = REPO / "var" / "bench"
VENVS = VAR / "venvs"
TS_DIR = VAR / "ts"

# The server gets core 0; wrk, the setup client and redis-server get core 1.
SERVER_CPUS = "0"
CLIENT_CPUS = "1"
BOTH_CPUS = "0,1"

ALL_VERSIONS = "2025-11-25,2025-06-18,2025-03-26,2024-11-05"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    venv: str | None  # the virtualenv (under var/bench/venvs, or "project") it runs from; None: node
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    ours: bool = False
    redis: bool = False
    workers: int = 1
    server_cpus: str = SERVER_CPUS
    client_cpus: str = CLIENT_CPUS
    # tools/call that makes the server emit a message on the session's GET stream (S5), and
    # the bytes that identify that message; None: the peer has no such tool.
    s5_call: tuple[str, dict] | None = None
    s5_needle: bytes = b""
    deletes: bool = True  # answers DELETE (S3 counts sessions, else cycles)
    scenarios: tuple[str, ...] = ("S1", "S2", "S3", "S4", "S5", "S6")
    note: str = ""
    # Where the server runs from: this checkout, or an older revision's (see ``at_revision``).
    cwd: Path = REPO

    @property
    def ceiling(self) -> bool:
        return self.key == "bare"

    def python(self) -> Path:
        if self.venv == "project":
            return REPO / ".venv" / "bin" / "python"
        return VENVS / str(self.venv) / "bin" / "python"

    def command(self, port: int) -> list[str]:
        args = [a.format(port=port, repo=REPO, ts=TS_DIR, venvs=VENVS) for a in self.args]
        if self.venv is None:
            return ["node", *args]
        return [str(self.python()), *args]

    def environment(self, port: int, redis_port: int, data_dir: Path) -> dict[str, str]:
        # Nothing of the caller's MCP or Redis configuration leaks into a measured server.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_", "REDIS_", "DJANGO_"))}
        env.update({k: v.format(port=port) for k, v in self.env.items()})
        if self.ours:
            env.update(
                {"MCP_ECHO_PORT": str(port), "MCP_DATA_DIR": str(data_dir), "MCP_WORKERS": str(self.workers)}
            )
            if self.redis:
                env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            else:
                env["MCP_STORE"] = "memory"
        return env


OURS_ARGS = ("-m", "echoserver", "--host", "127.0.0.1")
OURS_S5 = ("sendNotifications", {"count": 1, "target": "session", "message": "probe"})
SDK_S5 = ("notify", {})
SDK_SERVER = "{repo}/bench/peers/sdk_server.py"
SHARED = {"server_cpus": BOTH_CPUS, "client_cpus": BOTH_CPUS, "scenarios": ("S1", "S3")}

TARGETS: dict[str, Target] = {
    t.key: t
    for t in [
        Target(
            "bare",
            "bare ASGI app (the ceiling)",
            "tools",
            (
                "-m",
                "uvicorn",
                "--app-dir",
                "{repo}",
                "bench.peers.bare:app",
                "--port",
                "{port}",
                "--log-level",
                "warning",
                "--no-access-log",
            ),
            scenarios=("S1", "S2", "S3"),
        ),
        Target(
            "ours-memory",
            "this project, memory",
            "project",
            OURS_ARGS,
            ours=True,
            s5_call=OURS_S5,
            s5_needle=b"notifications/message",
        ),
        Target(
            "ours-redis",
            "this project, Redis",
            "project",
            OURS_ARGS,
            ours=True,
            redis=True,
            s5_call=OURS_S5,
            s5_needle=b"notifications/message",
        ),
        Target(
            "sdk-json",
            "Python SDK 2.3.0, JSON responses",
            "sdk",
            (SDK_SERVER, "--port", "{port}", "--json"),
            s5_call=SDK_S5,
            s5_needle=b"tools/list_changed",
            scenarios=("S1", "S2", "S3", "S4", "S5"),
        ),
        Target(
            "sdk-sse",
            "Python SDK 2.3.0, SSE responses",
            "sdk",
            (SDK_SERVER, "--port", "{port}"),
            s5_call=SDK_S5,
            s5_needle=b"tools/list_changed",
            scenarios=("S1", "S2", "S3", "S4", "S5"),
        ),
        Target(
            "seed",
            "seed package 0.2.0",
            "seed",
            ("-m", "mcp_echo_streamablehttp_server_stateful"),
            env={
                "MCP_ECHO_HOST": "127.0.0.1",
                "MCP_ECHO_PORT": "{port}",
                "MCP_PROTOCOL_VERSIONS_SUPPORTED": ALL_VERSIONS,
            },
            deletes=False,
            scenarios=("S1", "S2", "S3", "S4"),
            note="no DELETE (405): S3 counts init+initialized+DELETE cycles; logs every request (as shipped)",
        ),
        Target(
            "ts-sse",
            "TypeScript SDK 1.32.2 + express, SSE",
            None,
            ("{ts}/server.mjs",),
            env={"PORT": "{port}", "JSON": "0"},
            s5_call=SDK_S5,
            s5_needle=b"tools/list_changed",
            scenarios=("S1", "S2", "S3", "S4", "S5"),
        ),
        Target(
            "ts-json",
            "TypeScript SDK 1.32.2 + express, JSON",
            None,
            ("{ts}/server.mjs",),
            env={"PORT": "{port}", "JSON": "1"},
            s5_call=SDK_S5,
            s5_needle=b"tools/list_changed",
            scenarios=("S1", "S2", "S3", "S4", "S5"),
        ),
        # The cost of each session's traffic record (mcp.traffic.record): the same servers with
        # MCP_TRAFFIC_LOG=0, to set beside ours-memory and ours-redis (not in DEFAULT).
        Target(
            "ours-memory-untraced",
            "this project, memory, traffic record off",
            "project",
            OURS_ARGS,
            env={"MCP_TRAFFIC_LOG": "0"},
            ours=True,
            scenarios=("S1", "S2"),
        ),
        Target(
            "ours-redis-untraced",
            "this project, Redis, traffic record off",
            "project",
            OURS_ARGS,
            env={"MCP_TRAFFIC_LOG": "0"},
            ours=True,
            redis=True,
            scenarios=("S1", "S2"),
        ),
        # The MCP work alone: neither the access log line nor the traffic record (mcp.ops).
        Target(
            "ours-memory-quiet",
            "this project, memory, no access log or traffic record",
            "project",
            OURS_ARGS,
            env={"MCP_TRAFFIC_LOG": "0", "MCP_ACCESS_LOG": "0"},
            ours=True,
            scenarios=("S1", "S2", "S3"),
        ),
        Target(
            "ours-redis-1w",
            "this project, Redis, 1 worker, all on 2 cores",
            "project",
            OURS_ARGS,
            ours=True,
            redis=True,
            **SHARED,
        ),
        Target(
            "ours-redis-2w",
            "this project, Redis, 2 workers, all on 2 cores",
            "project",
            OURS_ARGS,
            ours=True,
            redis=True,
            workers=2,
            **SHARED,
        ),
    ]
}

DEFAULT = (
    "bare",
    "ours-memory",
    "ours-redis",
    "sdk-json",
    "sdk-sse",
    "seed",
    "ts-sse",
    "ours-redis-1w",
    "ours-redis-2w",
)
SMOKE = ("ours-memory", "ours-redis")


def at_revision(key: str, revision: str, source: Path) -> Target:
    """This project's target ``key`` as of an older ``revision`` exported to ``source``: the
    same virtualenv, but run from that directory, whose packages come first on sys.path."""
    base = TARGETS[key]
    return replace(
        base,
        key=f"{key}@{revision}",
        label=f"{base.label}, at {revision}",
        cwd=source,
        scenarios=("S1", "S3"),
        s5_call=None,
    )
