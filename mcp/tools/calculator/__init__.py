"""The calculator toolset: arithmetic (pure number rules) and toolset (its tools)."""

from __future__ import annotations

from mcp.tools.calculator.toolset import TOOLSET

__all__ = ["TOOLSET"]
