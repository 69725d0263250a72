"""Installing what the bench needs, once, into ``var/bench`` (gitignored).

- wrk (and redis-server) from Debian when missing, as root;
- ``project``: this repository's ``.venv`` (``pip install -e .``), created when missing;
- ``tools``: uvicorn[standard] for the bare ASGI ceiling, py-spy for the profiles;
- ``sdk``: the official Python SDK ``mcp`` 2.3.0 (it is also named ``mcp``: never next to
  this project);
- ``seed``: mcp-echo-streamablehttp-server-stateful 0.2.0 with ``starlette<1`` (0.2.0 passes
  ``on_startup=`` to Starlette, which 1.0 removed);
- ``ts``: the TypeScript SDK 1.32.2 from bench/peers/ts's committed package-lock.json.

Each step is skipped when a marker holding the hash of what it installed matches.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.targets import REPO, TS_DIR, VENVS

TIMEOUT = 1200
MARKER = ".bench-installed"
PEERS = REPO / "bench" / "peers"

REQUIREMENTS = {
    "tools": ["uvicorn[standard]>=0.30", "py-spy>=0.4"],
    "sdk": ["mcp==2.3.0", "uvicorn[standard]>=0.30"],
    "seed": ["mcp-echo-streamablehttp-server-stateful==0.2.0", "starlette<1"],
}


class InstallError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def run(command: list[str], cwd: Path = REPO) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstallError(f"`{' '.join(command)}` did not finish within {TIMEOUT}s") from exc
    if done.returncode != 0:
        raise InstallError(f"`{' '.join(command)}` failed:\n{(done.stdout + done.stderr)[-3000:]}")


def fresh(marker: Path, want: str) -> bool:
    return marker.exists() and marker.read_text() == want


def debian_packages() -> None:
    missing = [
        pkg for pkg, binary in (("wrk", "wrk"), ("redis-server", "redis-server")) if not shutil.which(binary)
    ]
    if not missing:
        return
    if os.getuid() != 0 or not shutil.which("apt-get"):
        raise InstallError(
            f"missing {', '.join(missing)}; as root run: apt-get install -y {' '.join(missing)}"
        )
    say(f"apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
    ):
        done = subprocess.run(
            command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT
        )
        if done.returncode != 0:
            raise InstallError(f"{' '.join(command)} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def project_venv() -> None:
    """This checkout's .venv, reinstalled when pyproject.toml changed since the last install
    (by this or by tests/run.sh, whose marker hashes the same way)."""
    venv = REPO / ".venv"
    python = venv / "bin" / "python"
    want = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + sys.version.encode() + b"\n").hexdigest()
    if python.exists() and (fresh(venv / MARKER, want) or fresh(venv / ".deps-sha256", want + "\n")):
        return
    say("installing this project into .venv (pip install -e .)")
    if not python.exists():
        run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "--quiet", "-e", str(REPO)])
    (venv / MARKER).write_text(want)


def venv(name: str) -> None:
    path = VENVS / name
    want = "\n".join([*REQUIREMENTS[name], sys.version])
    if fresh(path / MARKER, want):
        return
    say(f"installing {name}: {' '.join(REQUIREMENTS[name])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path / "bin" / "python").exists():
        run([sys.executable, "-m", "venv", str(path)])
    run([str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", *REQUIREMENTS[name]])
    (path / MARKER).write_text(want)


def ts_folder() -> None:
    sources = [PEERS / "ts" / name for name in ("package.json", "package-lock.json", "server.mjs")]
    want = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    if fresh(TS_DIR / MARKER, want):
        return
    if not shutil.which("npm"):
        raise InstallError("npm is not installed (apt-get install nodejs npm)")
    say("installing the TypeScript SDK peer (npm ci)")
    TS_DIR.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copy2(source, TS_DIR / source.name)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=TS_DIR)
    (TS_DIR / MARKER).write_text(want)


def prepare(venvs: set[str | None]) -> None:
    """Install what the chosen targets run from (``None`` stands for the node folder)."""
    debian_packages()
    for name in sorted(v for v in venvs if v is not None):
        if name == "project":
            project_venv()
        else:
            venv(name)
    if None in venvs:
        ts_folder()
