"""The skills this server serves (SEP-2640, ``io.modelcontextprotocol/skills``), read once from
``library/`` beside this module.

A skill is a directory holding ``SKILL.md`` (YAML frontmatter with at least ``name`` and
``description``, then Markdown) and any files below it. Each one is served at
``skill://<name>/<path>``; its entry (what ``skills/list`` and ``skills/get`` answer) carries
the frontmatter exactly as the file has it, and every file's ``sha256:`` digest and byte size,
``SKILL.md`` first. Guarantees: the entry's ``frontmatter`` is the parsed YAML of the file it
names (one parse, shared); every listed file is served with those very bytes; a directory
(the skill's root or a subdirectory) is listed by ``resources/directory/read`` with its direct
children, a subdirectory as ``inode/directory``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEME = "skill://"
MANIFEST = "SKILL.md"
MARKDOWN = "text/markdown"
DIRECTORY = "inode/directory"
LIBRARY = Path(__file__).resolve().parent / "library"

# The Agent Skills naming rule the extension adopts for the final path segment.
_NAME = re.compile(r"^(?!.*--)[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")
_FRONTMATTER = re.compile(r"^---\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", re.DOTALL)


class SkillError(ValueError):
    """A skill in the library breaks the extension's rules (raised at load, never at a request)."""


@dataclass(frozen=True, slots=True)
class SkillFile:
    uri: str
    path: str  # relative to the skill's root, "/"-separated
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @property
    def mime_type(self) -> str:
        return MARKDOWN if self.path.endswith(".md") else "text/plain"

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    frontmatter: dict[str, Any]
    files: tuple[SkillFile, ...]  # SKILL.md first

    @property
    def root(self) -> str:
        return SCHEME + self.name

    @property
    def uri(self) -> str:
        return self.files[0].uri

    @property
    def description(self) -> str:
        return str(self.frontmatter["description"])

    def entry(self) -> dict[str, Any]:
        """The skill as skills/list and skills/get show it."""
        return {
            "uri": self.uri,
            "frontmatter": self.frontmatter,
            "resources": [{"uri": f.uri, "digest": f.digest, "size": len(f.data)} for f in self.files],
        }

    def directories(self) -> set[str]:
        """Every directory of the skill as a URI: its root and each folder holding a file."""
        found = {self.root}
        for file in self.files:
            parts = file.path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                found.add(f"{self.root}/{'/'.join(parts[:depth])}")
        return found


def frontmatter(text: str) -> dict[str, Any]:
    """The YAML frontmatter at the start of a SKILL.md, as a JSON-ready object."""
    match = _FRONTMATTER.match(text.removeprefix("\ufeff"))
    if match is None:
        raise SkillError("SKILL.md does not begin with a --- delimited YAML frontmatter block")
    parsed = yaml.safe_load(match.group(1))
    if not isinstance(parsed, dict):
        raise SkillError("the frontmatter is not a YAML mapping")
    for field in ("name", "description"):
        if not isinstance(parsed.get(field), str) or not parsed[field]:
            raise SkillError(f"the frontmatter has no non-empty {field!r}")
    return parsed


def load(directory: Path) -> Skill:
    name = directory.name
    if not _NAME.match(name):
        raise SkillError(f"skill directory {name!r} breaks the naming rules")
    manifest = directory / MANIFEST
    paths = [manifest, *sorted(p for p in directory.rglob("*") if p.is_file() and p != manifest)]
    files = tuple(
        SkillFile(
            f"{SCHEME}{name}/{p.relative_to(directory).as_posix()}",
            p.relative_to(directory).as_posix(),
            p.read_bytes(),
        )
        for p in paths
    )
    meta = frontmatter(files[0].text)
    if meta["name"] != name:
        raise SkillError(f"{manifest}: frontmatter name {meta['name']!r} differs from its directory")
    return Skill(name, meta, files)


@dataclass(frozen=True)
class Catalog:
    skills: tuple[Skill, ...]

    def skill(self, uri: str) -> Skill | None:
        """The skill whose SKILL.md is ``uri``."""
        return next((skill for skill in self.skills if skill.uri == uri), None)

    def file(self, uri: str) -> SkillFile | None:
        return next((f for skill in self.skills for f in skill.files if f.uri == uri), None)

    def children(self, uri: str) -> list[dict[str, Any]] | None:
        """The direct children of directory ``uri`` as resources, or None if it is no directory."""
        uri = uri.rstrip("/")
        for skill in self.skills:
            directories = skill.directories()
            if uri not in directories:
                continue
            prefix = uri + "/"
            listed: list[dict[str, Any]] = [
                {"uri": d, "name": d.rsplit("/", 1)[1], "mimeType": DIRECTORY}
                for d in sorted(directories)
                if d.startswith(prefix) and "/" not in d[len(prefix) :]
            ]
            listed += [
                {
                    "uri": f.uri,
                    "name": f.path.rsplit("/", 1)[-1],
                    "mimeType": f.mime_type,
                    "size": len(f.data),
                }
                for f in skill.files
                if f.uri.startswith(prefix) and "/" not in f.uri[len(prefix) :]
            ]
            return listed
        return None


@cache
def catalog() -> Catalog:
    return Catalog(tuple(load(d) for d in sorted(LIBRARY.iterdir()) if d.is_dir()))
