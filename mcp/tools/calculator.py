"""Placeholder: being written."""

from __future__ import annotations

from mcp.tools.registry import Toolset

TOOLSET = Toolset("calculator")
