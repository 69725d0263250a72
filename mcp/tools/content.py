"""Resources, resource templates, prompts and completions: what a toolset offers besides tools.

Readers and prompt functions are async and get the ``Context``; they raise
``mcp.errors.ResourceNotFound`` / ``InvalidParams`` for what the client should see as a
JSON-RPC error.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.calls.context import Context

Contents = list[dict[str, Any]]
ReadFunc = Callable[["Context", str, dict[str, str]], Awaitable[Contents]]
PromptFunc = Callable[["Context", dict[str, str]], Awaitable[list[dict[str, Any]]]]
CompleteFunc = Callable[["Context", str, str, dict[str, str]], Awaitable[list[str]]]


def text_contents(uri: str, text: str, mime_type: str = "text/plain") -> Contents:
    return [{"uri": uri, "mimeType": mime_type, "text": text}]


def blob_contents(uri: str, data: bytes, mime_type: str) -> Contents:
    return [{"uri": uri, "mimeType": mime_type, "blob": base64.b64encode(data).decode()}]


def user_text(text: str) -> dict[str, Any]:
    return {"role": "user", "content": {"type": "text", "text": text}}


def _listing(wire: dict[str, Any], item: Resource | ResourceTemplate) -> dict[str, Any]:
    """A resource or template as the list methods show it: the optional fields only when set."""
    if item.title:
        wire["title"] = item.title
    if item.description:
        wire["description"] = item.description
    if item.mime_type:
        wire["mimeType"] = item.mime_type
    return wire


@dataclass(frozen=True, eq=False)
class Resource:
    uri: str
    name: str
    read: ReadFunc
    description: str = ""
    mime_type: str | None = None
    title: str | None = None
    # Listed only in sessions that turned dynamic resources on (triggerListChanged).
    dynamic: bool = False
    # The resource's _meta as resources/list shows it (MCP Apps: _meta.ui with the CSP).
    meta: dict[str, Any] | None = None

    @cached_property
    def definition(self) -> dict[str, Any]:
        wire = _listing({"uri": self.uri, "name": self.name}, self)
        if self.meta:
            wire["_meta"] = self.meta
        return wire


_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, eq=False)
class ResourceTemplate:
    """An RFC 6570 level-1 template: each ``{name}`` matches one path segment."""

    uri_template: str
    name: str
    read: ReadFunc
    description: str = ""
    mime_type: str | None = None
    title: str | None = None

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = _VARIABLE.split(self.uri_template)
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/?#]+)" for index, part in enumerate(parts)
        )
        return re.compile(f"^{regex}$")

    def match(self, uri: str) -> dict[str, str] | None:
        found = self.pattern.match(uri)
        return found.groupdict() if found else None

    @cached_property
    def definition(self) -> dict[str, Any]:
        return _listing({"uriTemplate": self.uri_template, "name": self.name}, self)


@dataclass(frozen=True)
class PromptArgument:
    name: str
    description: str = ""
    required: bool = False

    @property
    def definition(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"name": self.name}
        if self.description:
            wire["description"] = self.description
        wire["required"] = self.required
        return wire


@dataclass(frozen=True, eq=False)
class Prompt:
    name: str
    description: str
    render: PromptFunc
    arguments: tuple[PromptArgument, ...] = field(default_factory=tuple)
    title: str | None = None
    dynamic: bool = False

    @cached_property
    def definition(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"name": self.name}
        if self.title:
            wire["title"] = self.title
        wire["description"] = self.description
        if self.arguments:
            wire["arguments"] = [argument.definition for argument in self.arguments]
        return wire

    def missing(self, arguments: dict[str, str]) -> list[str]:
        return [a.name for a in self.arguments if a.required and not isinstance(arguments.get(a.name), str)]
