"""The tool registry's fast argument check never disagrees with JSON Schema."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mcp.tools import get_registry
from mcp.tools.registry import quick_checker

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
argument_names = st.sampled_from(["message", "a", "b", "op", "includeRaw", "showSecrets", "value", "x"])
arguments = st.dictionaries(argument_names, values, max_size=4)


def test_the_quick_check_applies_to_the_simple_seed_schemas():
    registry = get_registry()
    for name in ("echo", "replayLastEcho", "bearerDecode", "environmentDump"):
        assert quick_checker(registry.get(name).input_schema) is not None, name


@settings(max_examples=400, deadline=None)
@given(arguments)
def test_quick_valid_implies_schema_valid(args):
    for tool in get_registry().all():
        check = quick_checker(tool.input_schema)
        if check is not None and check(args):
            assert Draft202012Validator(tool.input_schema).is_valid(args), (tool.name, args)


@settings(max_examples=200, deadline=None)
@given(arguments)
def test_argument_error_matches_the_schema(args):
    for tool in get_registry().all():
        valid = Draft202012Validator(tool.input_schema).is_valid(args)
        assert (tool.argument_error(args) is None) == valid, (tool.name, args)
