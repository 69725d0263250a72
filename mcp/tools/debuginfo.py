"""Rendering request and process facts for the debug tools (pure, apart from reading /proc).

Guarantees: nothing returned here contains a credential beyond the short prefix that
``mcp.redact.mask`` keeps, a URL password, or a control character, and every value taken
from a request or the environment is length-capped.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
from django.conf import settings

from mcp.redact import clean, is_secret_name, mask, redact_text, redact_url, shown_header

ENV_LIMIT = 300

TRAEFIK_PREFIXES = ("x-forwarded-", "x-real-ip")
AUTH_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-auth-token", "x-api-key", "x-user-id", "x-user-name"}
)

CONFIG_VARS = (
    "MCP_ECHO_HOST",
    "MCP_ECHO_PORT",
    "MCP_ECHO_DEBUG",
    "MCP_SESSION_TIMEOUT",
    "MCP_PROTOCOL_VERSION",
    "MCP_PROTOCOL_VERSIONS_SUPPORTED",
    "MCP_STORE",
    "REDIS_URL",
    "MCP_TOOLSETS",
    "MCP_ALLOWED_HOSTS",
    "MCP_ALLOWED_ORIGINS",
)
MAX_EXTRA_VARS = 50

_IMPORTED = time.time()


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def heading(title: str, width: int = 40) -> list[str]:
    return [title, "=" * width, ""]


# --- Headers ----------------------------------------------------------------------------------


def header_sections(headers: Mapping[str, str]) -> list[str]:
    """printHeader's buckets (forwarded, authentication, request) then all, sorted; empty ones omitted."""
    shown = {clean(name.lower(), 100): shown_header(name, value) for name, value in headers.items()}
    buckets: dict[str, list[str]] = {
        "TRAEFIK FORWARDED HEADERS:": [],
        "AUTHENTICATION HEADERS:": [],
        "REQUEST HEADERS:": [],
    }
    for name in sorted(shown):
        line = f"  {name}: {shown[name]}"
        if name.startswith(TRAEFIK_PREFIXES):
            buckets["TRAEFIK FORWARDED HEADERS:"].append(line)
        elif name in AUTH_HEADERS:
            buckets["AUTHENTICATION HEADERS:"].append(line)
        else:
            buckets["REQUEST HEADERS:"].append(line)
    buckets["ALL HEADERS (Alphabetical):"] = [f"  {name}: {shown[name]}" for name in sorted(shown)]
    lines: list[str] = []
    for title, entries in buckets.items():
        if entries:
            lines += [title, "-" * 30, *entries, ""]
    return lines


# --- Trace context -----------------------------------------------------------------------------

CARRIED = {
    "_meta": "in params._meta",
    "both": "in params._meta and in HTTP headers",
    "http": "only in HTTP headers",
    "none": "none",
}
CORRECT = "params._meta.traceparent: 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags> (W3C)"


def trace_lines(client: Mapping[str, Any], server: Mapping[str, Any]) -> list[str]:
    """printHeader's and traceInfo's section: ``client`` is ``Carried.as_dict()``, ``server``
    the span's ``describe()`` (or ``{"tracing": "off"}``). Every value is length-capped."""
    keys = ", ".join([*client["meta_keys"], *client["header_keys"]])
    carried = CARRIED[client["carried"]] + (f" ({keys})" if keys else "")
    lines = ["TRACE CONTEXT:", "-" * 30, f"  Carried: {carried}"]
    if client["well_formed"] is True:
        sampled = "sampled" if client["sampled"] else "not sampled"
        lines.append(
            f"  ✅ traceparent from {client['source']}: trace {client['client_trace_id']}, "
            f"parent {client['client_parent_id']}, {sampled}"
        )
    elif client["well_formed"] is False:
        lines.append(f"  ❌ traceparent from {client['source']}: {client['problem']}")
        lines.append(f"     value: {clean(str(client['traceparent']), 120)!r}")
    lines += [f"  ⚠️ {clean(str(note), 200)}" for note in client["notes"]]
    if server.get("tracing") == "on":
        parent = server.get("parent_source") or "none (a new trace)"
        lines.append(f"  Server span: trace {server.get('trace_id')}, span {server.get('span_id')}")
        lines.append(f"     parent from: {parent}")
    else:
        lines.append("  Server tracing: off (no OTEL_EXPORTER_OTLP_ENDPOINT): nothing exported")
    return [*lines, f"  A correct client sends {CORRECT}", ""]


# --- Environment -------------------------------------------------------------------------------


def shown_env(name: str, value: str, *, show_secrets: bool) -> str:
    """A configuration value: secret-named ones as ``[set, N chars]`` (or a 4-char prefix)."""
    if is_secret_name(name):
        if show_secrets and value:
            return mask(value)
        return f"[set, {len(value)} chars]"
    return clean(redact_text(redact_url(value)), ENV_LIMIT)


def config_value(name: str, environ: Mapping[str, str], *, show_secrets: bool) -> str:
    """The variable as set, else the setting it defaults to (marked), else ``not set``."""
    raw = environ.get(name, "").strip()
    if raw:
        return shown_env(name, raw, show_secrets=show_secrets)
    effective = getattr(settings, name, None)
    if isinstance(effective, list | tuple):
        effective = ", ".join(str(item) for item in effective)
    if effective is None or effective == "":
        return "not set"
    return f"{shown_env(name, str(effective), show_secrets=show_secrets)} (default)"


def environment_lines(environ: Mapping[str, str], *, show_secrets: bool) -> list[str]:
    """The configuration the server reads, then any other MCP_* variable that is set."""
    lines = ["MCP Configuration:"]
    lines += [f"  {name}: {config_value(name, environ, show_secrets=show_secrets)}" for name in CONFIG_VARS]
    extra = sorted(name for name in environ if name.startswith("MCP_") and name not in CONFIG_VARS)
    if extra:
        lines += ["", "Other MCP_* Variables:"]
        for name in extra[:MAX_EXTRA_VARS]:
            lines.append(f"  {clean(name, 100)}: {shown_env(name, environ[name], show_secrets=show_secrets)}")
        if len(extra) > MAX_EXTRA_VARS:
            lines.append(f"  ... and {len(extra) - MAX_EXTRA_VARS} more")
    return lines


# --- Process ----------------------------------------------------------------------------------


def python_version() -> str:
    return platform.python_version()


def django_version() -> str:
    return django.get_version()


def system_lines() -> list[str]:
    return [
        "System:",
        f"  Python: {python_version()}",
        f"  Django: {django_version()}",
        f"  Platform: {platform.platform()}",
        f"  Hostname: {socket.gethostname()}",
    ]


def process_started() -> float:
    """When this process started (from /proc), or when this module was imported."""
    try:
        stat = Path("/proc/self/stat").read_text()
        # Fields after the parenthesised command name start at field 3; starttime is field 22.
        ticks = int(stat.rpartition(")")[2].split()[19])
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return _IMPORTED


def rss_bytes() -> int | None:
    """Resident memory of this process (VmRSS), or None where /proc is unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m {secs}s"
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
