"""The manifest JSON Schema: loading it, and turning its errors into located, fixable messages.

The schema file is the single source of truth for the format; it ships inside the package
(`runner/manifest/batch.schema.json`; `schemas/batch.schema.json` links to it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import LocatedError
from runner.manifest.fastcheck import Check, UnsupportedSchema, compile_check
from runner.manifest.wording import kind, quote, suggestion
from runner.manifest.yamltree import Document, PathPart

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "batch.schema.json"

_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


def schema_text() -> str:
    """The schema file's text, exactly as shipped (beside this module: the package is always
    installed as files; importlib.resources costs more start-up than the read)."""
    return Path(__file__).with_name(SCHEMA_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The parsed schema."""
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    """A validator for the schema, built once.

    Local `$ref`s are inlined first: resolving them per value is most of jsonschema's time on a
    large batch, and the inlined schema means exactly the same. Imported here: a valid file
    never needs jsonschema (the fast check answers), and importing it costs more start-up than
    the rest of a small load.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_inlined_schema())


@lru_cache(maxsize=1)
def _inlined_schema() -> dict[str, Any]:
    inlined: dict[str, Any] = _inline_refs(schema(), schema())
    return inlined


@lru_cache(maxsize=1)
def fast_check() -> Check | None:
    """The compiled yes/no check of the schema, or None if it uses a keyword not compiled."""
    try:
        return compile_check(_inlined_schema())
    except UnsupportedSchema:
        return None


def _inline_refs(node: Any, root: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline_refs(item, root) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/"):
        target: Any = root
        for part in reference[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        resolved = _inline_refs(target, root)
        siblings = {k: _inline_refs(v, root) for k, v in node.items() if k != "$ref"}
        # Annotations beside a $ref just override; other keywords must all hold.
        if set(siblings) <= {"description", "title"}:
            return {**resolved, **siblings}
        return {"allOf": [resolved], **siblings}
    return {key: _inline_refs(value, root) for key, value in node.items()}


def schema_problems(document: Document) -> list[tuple[list[PathPart], LocatedError]]:
    """Every schema violation of the document with the key path of the value it concerns,
    each located and worded to say what to fix."""
    check = fast_check()
    if check is not None and check(document.data):
        return []  # valid: no need for jsonschema's slower, explaining walk
    problems: list[tuple[list[PathPart], LocatedError]] = []
    for error in validator().iter_errors(document.data):
        problems.extend(_explain(document, error))
    return problems


def _explain(
    document: Document, error: ValidationError
) -> list[tuple[list[PathPart], LocatedError]]:
    """Located messages, each with the path of the value (or unknown key) it is about."""
    path: list[PathPart] = list(error.absolute_path)
    rule = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    sub: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if "propertyNames" in error.absolute_schema_path:
        hint = sub.get("patternErrorMessage", f"must match {value}")
        key = str(instance)
        return [([*path, key], document.error(path, f"invalid name {quote(key)}: {hint}", key=key))]
    if rule == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(sub.get("properties", {}))
        patterns = [re.compile(p) for p in sub.get("patternProperties", {})]
        return [
            ([*path, key], document.error(path, _unknown_key(key, allowed), key=key))
            for key in instance
            if key not in allowed and not any(p.search(key) for p in patterns)
        ]
    if rule == "required" and isinstance(instance, dict):
        return [
            (path, document.error(path, f"missing required key {quote(key)}"))
            for key in value
            if key not in instance
        ]
    return [(path, document.error(path, _message(error, sub, path)))]


def _unknown_key(key: str, allowed: Sequence[str]) -> str:
    hint = suggestion(key, allowed)
    if hint:
        return f"unknown key {quote(key)}{hint}"
    return f"unknown key {quote(key)}; allowed keys: {', '.join(allowed)}"


def _message(error: ValidationError, sub: dict[str, Any], path: Sequence[PathPart]) -> str:
    rule = str(error.validator)
    value: Any = error.validator_value
    instance: Any = error.instance
    if rule == "type":
        types: list[str] = value if isinstance(value, list) else [value]
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
        return f"expected {wanted}, got {kind(instance)}"
    if rule == "const":
        return f"must be {json.dumps(value)}, not {json.dumps(instance, default=str)}"
    if rule == "enum":
        choices = [str(choice) for choice in value]
        hint = suggestion(str(instance), choices) if isinstance(instance, str) else ""
        return f"must be one of {', '.join(choices)}, not {json.dumps(instance)}{hint}"
    if rule == "minLength":
        return "must not be empty"
    if rule == "maxLength":
        return f"{quote(instance)} is {len(instance)} characters; at most {value} are allowed"
    if rule == "pattern":
        hint = sub.get("patternErrorMessage", f"must match {value}")
        return f"{quote(instance)}: {hint}"
    if rule == "minItems":
        what = "task" if path == ["tasks"] else "value" if "matrix" in path else "item"
        return f"needs at least {value} {what}"
    if rule == "minProperties":
        if path and path[-1] == "matrix":
            return "needs at least one axis or include"
        return "must not be empty"
    if rule == "minimum":
        return f"must be at least {value}"
    if rule == "maximum":
        return f"must be at most {value}, not {json.dumps(instance)}"
    if rule == "uniqueItems":
        return "lists a value more than once"
    return error.message
