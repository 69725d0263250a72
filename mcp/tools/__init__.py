"""The tool registry: every toolset this server can offer, by name.

Adding a toolset is one module in this package and one line in TOOLSETS. MCP_TOOLSETS
picks which are enabled ("all" by default).
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mcp.errors import ToolError
from mcp.tools.registry import NO_ARGUMENTS, Tool, ToolRegistry, ToolResult, Toolset, text

__all__ = [
    "NO_ARGUMENTS",
    "TOOLSETS",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "Toolset",
    "get_registry",
    "text",
]

# name -> module defining ``TOOLSET``
TOOLSETS: dict[str, str] = {
    "debug": "mcp.tools.debug",
    "diagnostics": "mcp.tools.diagnostics",
    "calculator": "mcp.tools.calculator",
    "conformance": "mcp.tools.conformance",
    "faults": "mcp.tools.faults",
    "stress": "mcp.tools.stress",
    "apps": "mcp.tools.apps",
    "skills": "mcp.tools.skills",
}


def load_toolset(name: str) -> Toolset:
    try:
        module_path = TOOLSETS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"MCP_TOOLSETS names unknown toolset {name!r}; known: {', '.join(TOOLSETS)}"
        ) from None
    return import_module(module_path).TOOLSET


def enabled_toolset_names() -> list[str]:
    names = settings.MCP_TOOLSETS
    return list(TOOLSETS) if "all" in names else names


@cache
def get_registry() -> ToolRegistry:
    return ToolRegistry([load_toolset(name) for name in enabled_toolset_names()])
