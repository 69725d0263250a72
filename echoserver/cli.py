"""``mcp-echo-stateful-server`` (and ``python -m echoserver``): prepare SQLite, run uvicorn.

Flags override the environment variables of the same meaning; both are documented in the
README. Several workers need the Redis store: local-memory sessions live in one process.
"""

from __future__ import annotations

import argparse
import os
import sys

from echoserver import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcp-echo-stateful-server", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("MCP_ECHO_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: MCP_ECHO_PORT or 3000")
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
        "MCP_ECHO_DEBUG": "true" if args.debug else None,
        "MCP_SESSION_TIMEOUT": None if args.session_timeout is None else str(args.session_timeout),
        "MCP_PROTOCOL_VERSIONS_SUPPORTED": args.protocol_versions,
        # MCP_AUTH=embedded derives its default MCP_RESOURCE_URL from where the server listens.
        "MCP_ECHO_HOST": args.host,
        "MCP_ECHO_PORT": None if args.port is None else str(args.port),
    }
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = value
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "echoserver.settings")


def env_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"error: {name} must be an integer, not {raw!r}")


def prepare_database() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def uvicorn_log_config(debug: bool) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "mcp.redact.RedactingFilter"}},
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        },
        "loggers": {
            "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {
                "handlers": ["console"],
                "level": "INFO" if debug else "WARNING",
                "propagate": False,
            },
        },
    }


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    apply_flags(args)
    port = args.port if args.port is not None else env_number("MCP_ECHO_PORT", 3000)
    workers = args.workers if args.workers is not None else env_number("MCP_WORKERS", 1)

    import django
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        sys.exit(f"configuration error: {exc}")
    if workers > 1 and settings.MCP_STORE == "memory":
        sys.exit("error: --workers > 1 needs REDIS_URL (local-memory sessions live in one process)")
    prepare_database()

    import uvicorn

    uvicorn.run(
        "echoserver.asgi:application",
        host=args.host,
        port=port,
        workers=workers if workers > 1 else None,
        reload=args.reload,
        lifespan="on",
        log_config=uvicorn_log_config(settings.MCP_ECHO_DEBUG),
        timeout_graceful_shutdown=5,
        server_header=False,
    )
