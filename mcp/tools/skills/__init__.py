"""The skills toolset (SEP-2640, ``io.modelcontextprotocol/skills``): every file of every skill
in ``catalog.LIBRARY`` as a ``skill://`` resource.

A skill's ``SKILL.md`` is listed under the skill's name with its description (as the
extension asks); the other files under ``<skill>/<path>``. The extension's own methods
(``skills/list``, ``skills/get``, ``resources/directory/read``) are in mcp.handlers.skills.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp.tools.registry import Toolset
from mcp.tools.skills.catalog import MANIFEST, SkillFile, catalog

if TYPE_CHECKING:
    from mcp.calls.context import Context

TOOLSET = Toolset("skills")


def _reader(file: SkillFile) -> Any:
    async def read(ctx: Context, uri: str, params: dict[str, str]) -> list[dict[str, Any]]:
        return [{"uri": file.uri, "mimeType": file.mime_type, "text": file.text}]

    return read


for _skill in catalog().skills:
    for _file in _skill.files:
        manifest = _file.path == MANIFEST
        TOOLSET.resource(
            _file.uri,
            _skill.name if manifest else f"{_skill.name}/{_file.path}",
            description=_skill.description if manifest else f"A file of the {_skill.name} skill",
            mime_type=_file.mime_type,
        )(_reader(_file))
