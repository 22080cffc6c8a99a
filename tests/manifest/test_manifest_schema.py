"""The JSON Schema is a valid 2020-12 schema, documents every property, and is the one copy."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from jsonschema import Draft202012Validator

from runner.manifest import model
from runner.manifest.schema import schema, schema_text

EXAMPLES = sorted((ROOT / "examples").glob("*.tasks.yaml"))


def properties_of(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every entry of every `properties` object in the schema, with its JSON pointer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield f"{where}/properties/{name}", sub
            yield from properties_of(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from properties_of(item, f"{where}/{index}")


def resolve(root: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    reference = sub.get("$ref")
    if not reference:
        return sub
    target: Any = root
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in sub.items() if k != "$ref"}}


def test_it_is_a_valid_2020_12_schema() -> None:
    document = schema()
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)


def test_every_property_has_a_description() -> None:
    root = schema()
    found = list(properties_of(root))
    assert len(found) > 20
    missing = [pointer for pointer, sub in found if not resolve(root, sub).get("description")]
    assert missing == []


def test_unknown_keys_are_errors_everywhere() -> None:
    root = schema()
    objects = [root, root["$defs"]["settings"], root["$defs"]["task"]]
    assert all(obj["additionalProperties"] is False for obj in objects)


def test_enums_match_the_model() -> None:
    settings = schema()["$defs"]["settings"]["properties"]
    assert tuple(settings["wait"]["enum"]) == model.WAIT_MODES
    assert tuple(settings["on_drift"]["enum"]) == model.DRIFT_POLICIES


def test_there_is_one_copy_shipped_in_the_package() -> None:
    linked = ROOT / "schemas" / "batch.schema.json"
    packaged = ROOT / "runner" / "manifest" / "batch.schema.json"
    assert linked.is_symlink()
    assert os.readlink(linked) == "../runner/manifest/batch.schema.json"
    assert linked.resolve() == packaged.resolve()
    assert schema_text() == packaged.read_text(encoding="utf-8")
    assert json.loads(schema_text()) == schema()


def test_pyproject_ships_the_schema_as_package_data() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"manifest/batch.schema.json"' in pyproject


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_examples_validate_against_the_schema_and_point_editors_at_it(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/batch.schema.json\n")
    Draft202012Validator(schema()).validate(yaml.safe_load(text))


def test_there_are_the_three_examples() -> None:
    names = {path.name for path in EXAMPLES}
    assert {"quickstart.tasks.yaml", "matrix.tasks.yaml", "ci-seed.tasks.yaml"} <= names
