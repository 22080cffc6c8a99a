"""JSON exactly as Coder's CLI prints it (Go's `json.MarshalIndent` with two spaces), and the
documents that show a record's fields under their own names."""

from __future__ import annotations

import json
from typing import Any

# Go's encoder escapes these inside strings by default (HTML safety and JS line separators).
_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def go_json(value: Any) -> str:
    """`value` pretty-printed like Go's MarshalIndent(v, "", "  "), keys in their given order."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    # These characters can only occur inside JSON strings, so a plain replace is safe.
    for char, escaped in _GO_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def named_fields(record: object, *names: str) -> dict[str, Any]:
    """The document of `record`'s attributes `names`, each under its own name, in that order."""
    return {name: getattr(record, name) for name in names}
