"""The skills extension's methods (SEP-2640, ``io.modelcontextprotocol/skills``), both eras.

- ``skills/list``: every skill's entry, paginated like the other lists (an entry is never split);
- ``skills/get``: one entry by its ``SKILL.md`` URI; -32602 for a URI that is no skill here;
- ``resources/directory/read``: a skill directory's direct children (subdirectories as
  ``inode/directory``); -32602 for a URI that is no directory (``directoryRead: true``).

All three answer only while the skills toolset is enabled (the extension is declared then);
the entries and files come from mcp.tools.skills.catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from mcp.errors import InvalidParams
from mcp.tools import enabled_toolset_names
from mcp.tools.skills.catalog import Catalog, catalog
from mcp.wire.pagination import paginate

if TYPE_CHECKING:
    from mcp.calls.context import Context

EXTENSION = "io.modelcontextprotocol/skills"
SETTINGS: dict[str, Any] = {"directoryRead": True}


def enabled() -> bool:
    return "skills" in enabled_toolset_names()


def extensions() -> dict[str, Any]:
    """The extension as capabilities.extensions states it (nothing when skills are off)."""
    return {EXTENSION: dict(SETTINGS)} if enabled() else {}


def _catalog() -> Catalog:
    if not enabled():
        raise InvalidParams("Invalid params: this server serves no skills (the skills toolset is off)")
    return catalog()


def _uri(params: dict[str, Any]) -> str:
    uri = params.get("uri")
    if not isinstance(uri, str) or not uri:
        raise InvalidParams("Invalid params: 'uri' must be a non-empty string")
    return uri


async def list_skills(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    entries = [skill.entry() for skill in _catalog().skills]
    page, next_cursor = paginate(entries, params.get("cursor"), settings.MCP_PAGE_SIZE)
    result: dict[str, Any] = {"skills": page}
    if next_cursor is not None:
        result["nextCursor"] = next_cursor
    return result


async def get_skill(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    uri = _uri(params)
    skill = _catalog().skill(uri)
    if skill is None:
        raise InvalidParams(f"Invalid params: {uri[:200]} is not a skill this server serves")
    return {"skill": skill.entry()}


async def read_directory(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    uri = _uri(params)
    children = _catalog().children(uri)
    if children is None:
        raise InvalidParams(f"Invalid params: {uri[:200]} is not a directory this server serves")
    page, next_cursor = paginate(children, params.get("cursor"), settings.MCP_PAGE_SIZE)
    result: dict[str, Any] = {"resources": page}
    if next_cursor is not None:
        result["nextCursor"] = next_cursor
    return result
