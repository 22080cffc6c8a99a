"""A yes/no validity check compiled from the JSON Schema, for the common case of a valid file.

jsonschema spends most of a large batch's load time building validator objects per value. This
compiles the keywords the manifest schema uses into plain closures, once. It only answers "valid
or not"; when the answer is no, jsonschema runs to produce the located messages. A keyword it does
not know makes compilation fail, so the schema can never gain a rule this check silently skips.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

#: Keywords that never affect validity.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "title", "description", "patternErrorMessage", "examples"}
)


class UnsupportedSchema(Exception):
    """The schema uses a keyword this module does not compile."""


def compile_check(schema: dict[str, Any]) -> Check:
    """A function telling whether a value is valid against `schema` (local $refs inlined)."""
    if isinstance(schema, bool):  # the boolean schemas true and false
        return lambda _: schema
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        factory = _KEYWORDS.get(keyword)
        if factory is None:
            raise UnsupportedSchema(keyword)
        if keyword in ("properties", "patternProperties", "additionalProperties"):
            continue  # compiled together below
        checks.append(factory(value, schema))
    if any(k in schema for k in ("properties", "patternProperties", "additionalProperties")):
        checks.append(_object_members(schema))
    if len(checks) == 1:
        return checks[0]
    return lambda instance: all(check(instance) for check in checks)


def _json_equal(left: Any, right: Any) -> bool:
    # JSON has no bool/number overlap: true is not 1, but 1.0 is 1.
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    return bool(left == right)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": lambda v: _is_number(v) and float(v).is_integer(),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def _type(value: Any, _: dict[str, Any]) -> Check:
    names = value if isinstance(value, list) else [value]
    tests = [_TYPES[name] for name in names]
    return lambda instance: any(test(instance) for test in tests)


def _enum(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: any(_json_equal(instance, choice) for choice in value)


def _const(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: _json_equal(instance, value)


def _min_length(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: not isinstance(instance, str) or len(instance) >= value


def _max_length(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: not isinstance(instance, str) or len(instance) <= value


def _pattern(value: Any, _: dict[str, Any]) -> Check:
    search = re.compile(value).search
    return lambda instance: not isinstance(instance, str) or search(instance) is not None


def _minimum(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: not _is_number(instance) or instance >= value


def _maximum(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: not _is_number(instance) or instance <= value


def _unique_items(value: Any, _: dict[str, Any]) -> Check:
    def unique(instance: Any) -> bool:
        if not value or not isinstance(instance, list):
            return True
        return not any(_json_equal(a, b) for n, a in enumerate(instance) for b in instance[n + 1 :])

    return unique


def _min_items(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: not isinstance(instance, list) or len(instance) >= value


def _min_properties(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: not isinstance(instance, dict) or len(instance) >= value


def _required(value: Any, _: dict[str, Any]) -> Check:
    return lambda instance: not isinstance(instance, dict) or all(k in instance for k in value)


def _items(value: Any, _: dict[str, Any]) -> Check:
    item = compile_check(value)
    return lambda instance: not isinstance(instance, list) or all(item(v) for v in instance)


def _property_names(value: Any, _: dict[str, Any]) -> Check:
    name = compile_check(value)
    return lambda instance: not isinstance(instance, dict) or all(name(k) for k in instance)


def _all_of(value: Any, _: dict[str, Any]) -> Check:
    parts = [compile_check(sub) for sub in value]
    return lambda instance: all(part(instance) for part in parts)


def _object_members(schema: dict[str, Any]) -> Check:
    properties = {k: compile_check(v) for k, v in schema.get("properties", {}).items()}
    patterns = [
        (re.compile(p).search, compile_check(v))
        for p, v in schema.get("patternProperties", {}).items()
    ]
    extra = schema.get("additionalProperties", True)
    extra_check: Check | None = (
        None if extra is True else (lambda _: False) if extra is False else compile_check(extra)
    )

    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for key, value in instance.items():
            known = properties.get(key)
            matched = known is not None
            if known is not None and not known(value):
                return False
            for search, pattern_check in patterns:
                if search(key) is not None:
                    matched = True
                    if not pattern_check(value):
                        return False
            if not matched and extra_check is not None and not extra_check(value):
                return False
        return True

    return check


_KEYWORDS: dict[str, Callable[[Any, dict[str, Any]], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minLength": _min_length,
    "maxLength": _max_length,
    "pattern": _pattern,
    "minimum": _minimum,
    "maximum": _maximum,
    "minItems": _min_items,
    "uniqueItems": _unique_items,
    "minProperties": _min_properties,
    "required": _required,
    "items": _items,
    "propertyNames": _property_names,
    "allOf": _all_of,
    "properties": lambda value, schema: _object_members(schema),
    "patternProperties": lambda value, schema: _object_members(schema),
    "additionalProperties": lambda value, schema: _object_members(schema),
}
