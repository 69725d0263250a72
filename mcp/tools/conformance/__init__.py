"""Fixtures of the official MCP conformance suite, one toolset in three modules.

base (the 2025 scenarios' tools, resources and prompts, and the shared helpers), modern (the
2026-07-28 scenarios), tasks (the tasks-extension scenarios). Importing this package
registers all three on ``TOOLSET``.
"""

from __future__ import annotations

from mcp.tools.conformance import modern, tasks
from mcp.tools.conformance.base import TOOLSET

__all__ = ["TOOLSET", "modern", "tasks"]
