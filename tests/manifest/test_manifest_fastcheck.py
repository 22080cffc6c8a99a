"""The compiled yes/no schema check agrees with jsonschema on every document."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.manifest.fastcheck import UnsupportedSchema, compile_check
from runner.manifest.schema import fast_check, validator

EXAMPLES = [
    yaml.safe_load(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "examples").glob("*.tasks.yaml"))
]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-2, 2),
    st.sampled_from(["", "a", "idle", "none", "replace", "5m", "0s", "1h30m", "x-y", "a b", "_x"]),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["name", "prompt", "svc", "include", "exclude", "x-a", "bad-key", ""]),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=8,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += paths_of(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += paths_of(sub, (*prefix, index))
    return found


def mutate(document: Any, path: tuple[Any, ...], replacement: Any, add_key: str | None) -> Any:
    document = copy.deepcopy(document)
    if not path:
        return replacement
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    if add_key is not None and isinstance(parent, dict):
        parent[add_key] = replacement
    else:
        parent[path[-1]] = replacement
    return document


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_agrees_with_jsonschema_on_mutated_examples(data: st.DataObject) -> None:
    document = data.draw(st.sampled_from(EXAMPLES))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths_of(document)))
        replacement = data.draw(_json)
        add_key = data.draw(
            st.none() | st.sampled_from(["template", "matrix", "wait", "promt", "x-y", "vars"])
        )
        document = mutate(document, path, replacement, add_key)
    check = fast_check()
    assert check is not None
    assert check(document) == validator().is_valid(document)


def test_the_examples_are_valid_for_both() -> None:
    check = fast_check()
    assert check is not None
    for document in EXAMPLES:
        assert check(document) and validator().is_valid(document)


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"const": 1}, 1.0, True),
        ({"enum": [True]}, True, 1),
        ({"type": "integer"}, 2.0, 2.5),
        ({"type": "number"}, 2, False),
        ({"minimum": 0}, "not a number", -1),
        ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False},
         {"x-a": "s"}, {"x-a": 1}),
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"ab": 1}, {"a1": 1}),
        ({"items": False}, [], [1]),
    ],
)  # fmt: skip
def test_keyword_semantics_match_jsonschema(schema: dict[str, Any], good: Any, bad: Any) -> None:
    from jsonschema import Draft202012Validator

    check = compile_check(schema)
    reference = Draft202012Validator(schema)
    assert check(good) and reference.is_valid(good)
    assert not check(bad) and not reference.is_valid(bad)


def test_an_unknown_keyword_is_refused_not_skipped() -> None:
    with pytest.raises(UnsupportedSchema):
        compile_check({"type": "object", "dependentRequired": {"a": ["b"]}})
