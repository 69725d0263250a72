"""The README's configuration table names every environment variable the code reads.

The variables are found in the source, not listed by hand: every string literal naming a variable
that is handed to a reader of the environment (the strict helpers of echoserver/env.py,
``os.environ.get``, ``os.environ[...]``, ``os.getenv``) anywhere in echoserver/ and mcp/. The
table's variables are the backquoted names in its first column. Both directions are checked: a
variable read but not documented, and a documented one nothing reads.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mcp.telemetry.config import DOCUMENTED as OTEL_VARIABLES

REPO = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
# Read by libraries on their own (documented in the table all the same) or by the Django machinery.
NOT_OURS = {"DJANGO_SETTINGS_MODULE"}
# The OTEL_* variables: the OpenTelemetry SDK reads them itself (mcp/telemetry/config.py checks
# the ones it must and lists them all).
LIBRARY_READ = set(OTEL_VARIABLES)


def _reader(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name.startswith("env_") or name in ("getenv", "writable_dir"):
        return True
    # os.environ.get(...), environ.get(...)
    return name == "get" and isinstance(func, ast.Attribute) and "environ" in ast.unparse(func.value)


def variables_read() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in [*REPO.glob("echoserver/**/*.py"), *REPO.glob("mcp/**/*.py")]:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            literal = None
            if isinstance(node, ast.Call) and _reader(node) and node.args:
                literal = node.args[0]
            elif isinstance(node, ast.Subscript) and "environ" in ast.unparse(node.value):
                literal = node.slice
            if (
                isinstance(literal, ast.Constant)
                and isinstance(literal.value, str)
                and NAME.match(literal.value)
            ):
                found.setdefault(literal.value, str(path.relative_to(REPO)))
    return {name: where for name, where in found.items() if name not in NOT_OURS}


def documented() -> set[str]:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
    return names


def test_every_variable_the_code_reads_is_in_the_configuration_table():
    read = variables_read()
    assert len(read) > 60, sorted(read)  # the scan itself works
    missing = {name: where for name, where in read.items() if name not in documented()}
    assert not missing, f"read but not in the README's configuration table: {missing}"


def test_every_variable_in_the_table_is_read_by_the_code():
    unread = documented() - set(variables_read()) - LIBRARY_READ
    assert not unread, f"in the README's configuration table but read nowhere: {sorted(unread)}"
