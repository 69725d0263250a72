"""Tools, toolsets and the registry that serves them.

A tool is a name, a description, a JSON Schema for its arguments and an async function
``func(ctx, args) -> str | ToolResult``. Arguments are validated against the schema before
the function runs; a function reports a failure the model should see by raising
``ToolError``. Tools are grouped in toolsets (one module each, listed in
``mcp.tools.TOOLSETS``), enabled by MCP_TOOLSETS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

if TYPE_CHECKING:
    from mcp.context import Context

NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


class ToolError(Exception):
    """A failure reported to the caller as a tool result with ``isError: true``."""


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


@dataclass(slots=True)
class ToolResult:
    content: list[dict[str, Any]]
    structured: dict[str, Any] | None = None
    is_error: bool = False

    def to_wire(self) -> dict[str, Any]:
        result: dict[str, Any] = {"content": self.content}
        if self.structured is not None:
            result["structuredContent"] = self.structured
        if self.is_error:
            result["isError"] = True
        return result

    @classmethod
    def error(cls, message: str) -> ToolResult:
        return cls([text(message)], is_error=True)


ToolFunc = Callable[["Context", dict[str, Any]], Awaitable["str | ToolResult"]]


@dataclass(frozen=True, eq=False)
class Tool:
    name: str
    description: str
    func: ToolFunc
    input_schema: dict[str, Any] = field(default_factory=lambda: dict(NO_ARGUMENTS))
    title: str | None = None
    annotations: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    icons: list[dict[str, Any]] | None = None
    # "forbidden" | "optional" | "required" (tasks, 2025-11-25)
    task_support: str = "forbidden"

    @cached_property
    def definition(self) -> dict[str, Any]:
        """The tool as tools/list shows it."""
        wire: dict[str, Any] = {"name": self.name}
        if self.title:
            wire["title"] = self.title
        wire["description"] = self.description
        wire["inputSchema"] = self.input_schema
        if self.output_schema is not None:
            wire["outputSchema"] = self.output_schema
        if self.annotations:
            wire["annotations"] = self.annotations
        if self.icons:
            wire["icons"] = self.icons
        if self.task_support != "forbidden":
            wire["execution"] = {"taskSupport": self.task_support}
        return wire

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.input_schema)

    def argument_error(self, arguments: dict[str, Any]) -> str | None:
        """A readable reason the arguments do not fit the schema, or None if they do."""
        error = best_match(self._validator.iter_errors(arguments))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path)
        return f"{where}: {error.message}" if where else error.message


class Toolset:
    """One module's tools, in the order they were declared."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tools: dict[str, Tool] = {}

    def add(self, tool: Tool) -> Tool:
        if tool.name in self.tools:
            raise ValueError(f"tool {tool.name!r} declared twice in toolset {self.name!r}")
        self.tools[tool.name] = tool
        return tool

    def tool(
        self,
        name: str,
        description: str,
        schema: dict[str, Any] | None = None,
        **options: Any,
    ) -> Callable[[ToolFunc], ToolFunc]:
        """Declare the decorated coroutine as a tool of this set."""

        def register(func: ToolFunc) -> ToolFunc:
            self.add(Tool(name, description, func, schema or dict(NO_ARGUMENTS), **options))
            return func

        return register


class ToolRegistry:
    """The tools a server offers: the union of the enabled toolsets."""

    def __init__(self, toolsets: list[Toolset]) -> None:
        self._tools: dict[str, Tool] = {}
        for toolset in toolsets:
            for tool in toolset.tools.values():
                if tool.name in self._tools:
                    raise ValueError(f"tool {tool.name!r} is declared by two toolsets")
                self._tools[tool.name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def all(self) -> list[Tool]:
        return list(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools
