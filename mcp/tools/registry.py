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

from mcp.tools.content import (
    CompleteFunc,
    Prompt,
    PromptArgument,
    PromptFunc,
    ReadFunc,
    Resource,
    ResourceTemplate,
)

if TYPE_CHECKING:
    from mcp.calls.context import Context

NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


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


# Python types that certainly satisfy a JSON Schema primitive type (bool is not a number).
_QUICK_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}
_QUICK_SCHEMA_KEYS = frozenset(
    {"type", "properties", "required", "additionalProperties", "description", "title"}
)
_QUICK_PROPERTY_KEYS = frozenset({"type", "description", "title", "default"})


def quick_checker(schema: dict[str, Any]) -> Callable[[dict[str, Any]], bool] | None:
    """A fast "certainly valid" test for flat schemas of primitive properties, else None.

    Hand-written because jsonschema costs tens of microseconds per call on the hot path. It
    only ever answers True for arguments the schema accepts; anything else goes to jsonschema,
    which decides and explains.
    """
    if schema.get("type") != "object" or not set(schema) <= _QUICK_SCHEMA_KEYS:
        return None
    properties = schema.get("properties", {})
    types: dict[str, tuple[type, ...]] = {}
    for name, spec in properties.items():
        if (
            not isinstance(spec, dict)
            or not set(spec) <= _QUICK_PROPERTY_KEYS
            or spec.get("type") not in _QUICK_TYPES
        ):
            return None
        types[name] = _QUICK_TYPES[spec["type"]]
    required = tuple(schema.get("required", ()))
    closed = schema.get("additionalProperties") is False

    def check(arguments: dict[str, Any]) -> bool:
        for name in required:
            if name not in arguments:
                return False
        for name, value in arguments.items():
            allowed = types.get(name)
            if allowed is None:
                if closed:
                    return False
                continue
            if isinstance(value, bool) and bool not in allowed:
                return False
            if not isinstance(value, allowed):
                return False
        return True

    return check


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
    # The tool's _meta as tools/list shows it (MCP Apps: _meta.ui.resourceUri, visibility).
    meta: dict[str, Any] | None = None
    # "forbidden" | "optional" | "required" (tasks, 2025-11-25)
    task_support: str = "forbidden"
    # Listed only in sessions that turned dynamic tools on (triggerListChanged).
    dynamic: bool = False
    # Its answer depends only on its arguments and the session's fixed facts (id, client,
    # principal), and its only effect is ``set_state`` on the session, never read back in the
    # same call: it may run on a cached record and commit in one step (SessionStore.commit).
    blind: bool = False
    # Inputs gathered by input_required rounds before a 2026-07-28 call becomes a task.
    inputs_before_task: dict[str, tuple[str, dict[str, Any]]] | None = None

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
        if self.meta:
            wire["_meta"] = self.meta
        return wire

    @cached_property
    def _validator(self) -> Draft202012Validator:
        return Draft202012Validator(self.input_schema)

    @cached_property
    def _quick_check(self) -> Callable[[dict[str, Any]], bool] | None:
        return quick_checker(self.input_schema)

    def argument_error(self, arguments: dict[str, Any]) -> str | None:
        """A readable reason the arguments do not fit the schema, or None if they do."""
        if self._quick_check is not None and self._quick_check(arguments):
            return None
        error = best_match(self._validator.iter_errors(arguments))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path)
        return f"{where}: {error.message}" if where else error.message


class Toolset:
    """One module's tools, resources, templates, prompts and completions, in declaration order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.templates: dict[str, ResourceTemplate] = {}
        self.prompts: dict[str, Prompt] = {}
        # (ref type, prompt name or template) -> completer
        self.completions: dict[tuple[str, str], CompleteFunc] = {}

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

    def resource(self, uri: str, name: str, **options: Any) -> Callable[[ReadFunc], ReadFunc]:
        """Declare the decorated ``read(ctx, uri, params)`` as a static resource."""

        def register(func: ReadFunc) -> ReadFunc:
            self.resources[uri] = Resource(uri, name, func, **options)
            return func

        return register

    def template(self, uri_template: str, name: str, **options: Any) -> Callable[[ReadFunc], ReadFunc]:
        """Declare the decorated ``read(ctx, uri, params)`` as a resource template."""

        def register(func: ReadFunc) -> ReadFunc:
            self.templates[uri_template] = ResourceTemplate(uri_template, name, func, **options)
            return func

        return register

    def prompt(
        self,
        name: str,
        description: str,
        arguments: tuple[PromptArgument, ...] = (),
        **options: Any,
    ) -> Callable[[PromptFunc], PromptFunc]:
        """Declare the decorated ``render(ctx, arguments) -> messages`` as a prompt."""

        def register(func: PromptFunc) -> PromptFunc:
            self.prompts[name] = Prompt(name, description, func, tuple(arguments), **options)
            return func

        return register

    def completion(self, ref_type: str, ref: str) -> Callable[[CompleteFunc], CompleteFunc]:
        """Declare ``complete(ctx, argument, value, context) -> values`` for a prompt or template."""

        def register(func: CompleteFunc) -> CompleteFunc:
            self.completions[(ref_type, ref)] = func
            return func

        return register


class ToolRegistry:
    """What a server offers: the union of the enabled toolsets (names must not clash)."""

    def __init__(self, toolsets: list[Toolset]) -> None:
        self._tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.templates: dict[str, ResourceTemplate] = {}
        self.prompts: dict[str, Prompt] = {}
        self.completions: dict[tuple[str, str], CompleteFunc] = {}
        for toolset in toolsets:
            _merge(self._tools, toolset.tools, "tool")
            _merge(self.resources, toolset.resources, "resource")
            _merge(self.templates, toolset.templates, "resource template")
            _merge(self.prompts, toolset.prompts, "prompt")
            _merge(self.completions, toolset.completions, "completion")

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def all(self) -> list[Tool]:
        return list(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def find_resource(self, uri: str) -> tuple[Resource | ResourceTemplate, dict[str, str]] | None:
        """The static resource or the first template matching ``uri``, with its variables."""
        if uri in self.resources:
            return self.resources[uri], {}
        for template in self.templates.values():
            params = template.match(uri)
            if params is not None:
                return template, params
        return None


def _merge(into: dict[Any, Any], items: dict[Any, Any], kind: str) -> None:
    for key, item in items.items():
        if key in into:
            raise ValueError(f"{kind} {key!r} is declared by two toolsets")
        into[key] = item
