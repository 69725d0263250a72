"""The registered paths: every way an MCP message reaches the server.

A transport registers each path it carries messages on, at import, with ``register``; the
seam's functions take the ``Path`` they are deciding for. ``PATHS`` is what the table-driven
policy test enumerates: a path added later without rows in that table fails it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Path:
    name: str
    description: str


PATHS: dict[str, Path] = {}


def register(name: str, description: str) -> Path:
    """The path ``name``; registering one name twice is a programming error."""
    if name in PATHS:
        raise ValueError(f"the path {name!r} is registered already")
    path = PATHS[name] = Path(name, description)
    return path
