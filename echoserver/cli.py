"""``mcp-echo-stateful-server`` (and ``python -m echoserver``): prepare SQLite, run uvicorn.

Flags override the environment variables of the same meaning; both are documented in the
README. Several workers need the Redis store: local-memory sessions live in one process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from echoserver import __version__


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 1-65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcp-echo-stateful-server", description=__doc__)
    parser.add_argument("--host", default=None, help="default: MCP_ECHO_HOST or 127.0.0.1")
    parser.add_argument("--port", type=port_number, default=None, help="default: MCP_ECHO_PORT or 3000")
    parser.add_argument("--workers", type=int, default=None, help="default: MCP_WORKERS or 1")
    parser.add_argument("--debug", action="store_true", default=None, help="debug logging (MCP_ECHO_DEBUG)")
    parser.add_argument(
        "--session-timeout", type=int, default=None, help="idle seconds (MCP_SESSION_TIMEOUT)"
    )
    parser.add_argument(
        "--protocol-versions", default=None, help="comma list (MCP_PROTOCOL_VERSIONS_SUPPORTED)"
    )
    parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    parser.add_argument("--version", action="version", version=__version__)
    return parser


def apply_flags(args: argparse.Namespace) -> None:
    """Flags win over the environment: write them there before settings are read."""
    overrides = {
        # Settings read them (and MCP_AUTH=embedded derives its default MCP_RESOURCE_URL from them).
        "MCP_ECHO_HOST": args.host,
        "MCP_ECHO_PORT": None if args.port is None else str(args.port),
        "MCP_WORKERS": None if args.workers is None else str(args.workers),
        "MCP_ECHO_DEBUG": "true" if args.debug else None,
        "MCP_SESSION_TIMEOUT": None if args.session_timeout is None else str(args.session_timeout),
        "MCP_PROTOCOL_VERSIONS_SUPPORTED": args.protocol_versions,
    }
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = value
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "echoserver.settings")


def prepare_multiprocess_metrics(data_dir: Path) -> None:
    """Several workers: prometheus_client's multiprocess mode in a directory wiped at start."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    else:
        directory = data_dir / "prometheus"
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def prepare_database() -> None:
    """SQLite (one machine): create or update the tables. A shared database (DATABASE_URL,
    PostgreSQL) is migrated once by the deployment (``manage.py migrate``, compose's migrate
    service), never by each of its processes at once: this one only checks it is up to date."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    from mcp.redact import redact_text

    shared = settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
    where = "DATABASE_URL" if shared else "MCP_DATA_DIR / MCP_DATABASE_PATH"
    try:
        if not shared:
            call_command("migrate", interactive=False, verbosity=0)
            return
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        reason = redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        sys.exit(f"error: cannot prepare the database ({where}): {reason[:200]}")
    if pending:
        sys.exit(
            f"error: the database of DATABASE_URL lacks {len(pending)} migration(s): "
            "run `python manage.py migrate` once (compose: the migrate service), then start the servers"
        )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    apply_flags(args)

    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        sys.exit(f"configuration error: {exc}")
    workers = settings.MCP_WORKERS
    if workers > 1 and settings.MCP_STORE == "memory":
        given = "--workers" if args.workers is not None else "MCP_WORKERS"
        sys.exit(f"error: {given}={workers} needs REDIS_URL (local-memory sessions live in one process)")
    if workers > 1:
        prepare_multiprocess_metrics(settings.DATA_DIR)
    prepare_database()

    import uvicorn

    from mcp.ops.logs import uvicorn_log_config

    uvicorn.run(
        "echoserver.asgi:application",
        host=settings.MCP_ECHO_HOST,
        port=settings.MCP_ECHO_PORT,
        workers=workers if workers > 1 else None,
        reload=args.reload,
        lifespan="on",
        log_config=uvicorn_log_config(),
        timeout_graceful_shutdown=5,
        server_header=False,
        # httptools with limits on the request head (MCP_MAX_HEADERS, MCP_MAX_HEADER_BYTES):
        # uvicorn's own httptools protocol keeps any number of headers.
        http="echoserver.http_limits:HeaderLimitedHttpTools",
        # X-Forwarded-* count only from MCP_TRUSTED_PROXIES, which the application applies
        # itself: uvicorn's own rewrite (it trusts 127.0.0.1 by default) would apply a second,
        # different rule, and cost a layer per request.
        proxy_headers=False,
    )
