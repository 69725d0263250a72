"""Strict readers for settings that come from the environment.

Every helper returns the default when the variable is unset or empty, and raises
``ImproperlyConfigured`` naming the variable when a value is present but malformed, so a
typo stops the process at start-up instead of silently falling back.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

REDIS_SCHEMES = ("redis", "rediss", "unix")
DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
T = TypeVar("T")


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImproperlyConfigured(f"{name} must be a finite number, not {value!r}")
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blank items are dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value.lower()


def env_parsed(name: str, default: T, parse: Callable[[str], T]) -> T:
    """A structured value read by ``parse`` (which raises ValueError on bad input)."""
    value = _raw(name)
    if value is None:
        return default
    try:
        return parse(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is invalid: {exc}") from None


def env_redis_url(name: str) -> str:
    """A Redis URL (``redis://``, ``rediss://`` or ``unix://``) with a host or a socket path."""
    value = _raw(name)
    if value is None:
        return ""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not a valid URL (redis://host:port/db)") from None
    if parts.scheme not in REDIS_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must start with {', '.join(s + '://' for s in REDIS_SCHEMES)} (like redis://host:6379/0)"
        )
    if parts.scheme == "unix" and not parts.path:
        raise ImproperlyConfigured(f"{name} names no socket path (unix:///path/to/redis.sock)")
    if parts.scheme != "unix" and not parts.hostname:
        raise ImproperlyConfigured(f"{name} names no host (redis://host:6379/0)")
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not database.isdigit():
        raise ImproperlyConfigured(f"{name} must end with a database number, like /0")
    del port  # parsed only to reject a malformed port
    return value


def env_database_url(name: str) -> dict[str, Any] | None:
    """Django's ``DATABASES`` entry for the URL in ``name`` (parsed by dj-database-url), or None
    when unset. PostgreSQL (``postgres://user:password@host:5432/name``) and SQLite
    (``sqlite:////absolute/path``) only. The error names the variable and, at most, the scheme:
    never the URL, which may hold a password."""
    value = _raw(name)
    if value is None:
        return None
    import dj_database_url

    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a postgres://user:password@host:5432/name or sqlite:////path URL"
            + (f", not {scheme}://..." if scheme else "")
        )
    try:
        config = dj_database_url.parse(value, conn_max_age=0, conn_health_checks=True)
    except (ValueError, dj_database_url.ParseError):
        raise ImproperlyConfigured(f"{name} is not a valid database URL") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database (postgres://user:password@host:5432/name)")
    return dict(config)


def writable_dir(name: str, path: Path) -> Path:
    """``path`` created if missing; a directory this process cannot create or write stops start-up."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}: cannot create {path} ({exc.strerror or exc})") from None
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise ImproperlyConfigured(f"{name}: {path} is not a writable directory")
    return path


def env_networks(name: str) -> list[str]:
    """A comma list of IP addresses or networks (``10.0.0.0/8``)."""
    items = env_list(name, [])
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not an IP address or network (like 10.0.0.0/8)"
            ) from None
    return items


def _http_url(value: str) -> SplitResult | None:
    """The parts of an http(s) URL with a host (and a valid port, if any); None otherwise."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (a malformed port raises)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts


def check_origin(name: str, origin: str) -> str:
    """``origin`` if it is ``*`` or ``scheme://host[:port]`` (http or https), else stop."""
    if origin == "*":
        return origin
    parts = _http_url(origin)
    if parts is None or parts.path not in ("", "/"):
        raise ImproperlyConfigured(f"{name}: {origin!r} is not an origin (like https://app.example.com) or *")
    return origin


def env_http_url(name: str) -> str:
    """An http(s) URL with a host, or empty when unset."""
    value = _raw(name)
    if value is None:
        return ""
    if _http_url(value) is None:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL with a host, not {value!r}")
    return value


def env_file(name: str) -> str:
    """A path to a readable file, or empty when unset."""
    value = _raw(name)
    if value is None:
        return ""
    if not os.path.isfile(value) or not os.access(value, os.R_OK):
        raise ImproperlyConfigured(f"{name}: {value!r} is not a readable file")
    return value
