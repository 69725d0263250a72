"""Private PostgreSQL servers for the shared-database tests (never the machine's own on 5432).

Each server is Debian's PostgreSQL (``initdb`` + ``pg_ctl`` from /usr/lib/postgresql/<n>/bin),
initialised in a fresh temporary directory, run as the ``postgres`` user when the tests run as
root (PostgreSQL refuses to run as root), listening on 127.0.0.1 on a free port with its
socket in that directory, and removed afterwards. A machine without the package fails these
tests loudly (tests/run.sh installs it): PostgreSQL is what a shared deployment runs on, so
these tests are never skipped and never faked.

The ``postgres_url`` fixture (tests/conftest.py) starts one per test session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.redis_server import free_port

START_TIMEOUT = 30
ATTEMPTS = 3
SUPERUSER = "postgres"
DATABASE = "mcp"


def bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian keeps one per major version)."""
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        pytest.fail(
            "PostgreSQL is not installed: the shared-database tests need a real server "
            "(apt-get install postgresql; tests/run.sh does it); they are not skipped and not faked.",
            pytrace=False,
        )
    return versions[-1]


def _as_owner(command: list[str]) -> list[str]:
    """``command`` run as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SUPERUSER, "--", *command]


class PostgresServer:
    """One PostgreSQL cluster in its own directory; ``url`` names database ``mcp`` on it."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.directory = Path(tempfile.mkdtemp(prefix="mcp-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.port = 0
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SUPERUSER)
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        self.directory.chmod(0o700)

    @property
    def url(self) -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_owner(list(command)), capture_output=True, text=True, timeout=START_TIMEOUT + 30, check=False
        )

    def start(self) -> None:
        """initdb, then pg_ctl start on a free port (a lost race for it is retried), then createdb."""
        done = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        if done.returncode:
            self.remove()
            pytest.fail(f"initdb failed: {(done.stderr or done.stdout)[-800:]}", pytrace=False)
        problems: list[str] = []
        for _ in range(ATTEMPTS):
            port = free_port()
            # Durability is not under test: fsync off keeps migrations quick on a shared disk.
            options = f"-p {port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
            done = self._run(
                str(self.bin / "pg_ctl"),
                "start",
                "-w",
                "-t",
                str(START_TIMEOUT),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
            )
            if done.returncode == 0:
                self.port = port
                break
            problems.append(f"port {port}: {self._log_tail()}")
        else:
            self.remove()
            pytest.fail("PostgreSQL did not start:\n" + "\n".join(problems), pytrace=False)
        done = self._run(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, DATABASE
        )
        if done.returncode:
            self.stop()
            pytest.fail(f"createdb failed: {done.stderr[-500:]}", pytrace=False)

    def create_database(self, name: str) -> str:
        """A new empty database ``name`` on this server; its URL."""
        done = self._run(
            str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, name
        )
        assert done.returncode == 0, done.stderr[-500:]
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace").strip()[-500:] or "no log"
        except OSError:
            return "no log"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        if self.port:
            self._run(str(self.bin / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.data))
            self.port = 0
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
