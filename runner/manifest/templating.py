"""Rendering manifest strings as Jinja templates, sandboxed.

A manifest may come from a pull request, so templates must not run code, read files or see the
environment: the sandbox blocks attribute tricks, there is no loader (no include/import), the
only names are `vars`, `matrix` and `env` (no globals), and `env` holds only the variables the
command line names with `--env`. Undefined names are errors (StrictUndefined).

Most manifest strings have no template syntax and are returned as they are. Strings made only of
text and `{{ a.b.c }}` lookups are substituted directly, with exactly Jinja's result, because
compiling thousands of distinct templates would dominate the load time. Everything else is
compiled by Jinja (`runner/manifest/jinja.py`, imported only then), once per distinct string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.manifest.jinja import JinjaEngine

#: Templates may not render more than this many characters.
MAX_RENDERED_CHARS = 1_000_000

_SIMPLE_LOOKUP = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_NOT_SIMPLE = re.compile(r"\{[%#]|\r")


class TemplateProblem(Exception):
    """A template could not be compiled or rendered; `line` is 1-based within the template."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class Namespace(dict[str, Any]):
    """`vars`, `matrix` or `env`: a plain mapping that knows its name, for error messages."""

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        # Underscore: the sandbox refuses it, so it can never shadow a key.
        self._label = label


def is_template(text: str) -> bool:
    """True when `text` has Jinja syntax and must be rendered."""
    return "{{" in text or "{%" in text or "{#" in text


class Renderer:
    """Renders manifest strings; compiles each distinct template once."""

    def __init__(self) -> None:
        self._jinja: JinjaEngine | None = None
        self._simple: dict[str, list[str | tuple[str, ...]] | None] = {}

    def render(self, text: str, context: Mapping[str, Namespace]) -> str:
        """`text` rendered with `context`; TemplateProblem on any error."""
        if not is_template(text):
            return text
        if text in self._simple:
            parts = self._simple[text]
        else:
            parts = self._simple[text] = _split_simple(text)
        if parts is not None:
            rendered = _substitute(parts, context)
            if rendered is not None:
                return rendered
        if self._jinja is None:
            from runner.manifest.jinja import JinjaEngine  # only for strings that need it

            self._jinja = JinjaEngine()
        return self._jinja.render(text, context)


def _split_simple(text: str) -> list[str | tuple[str, ...]] | None:
    """Text and `{{ a.b }}` lookups, or None when the string needs the real Jinja."""
    if _NOT_SIMPLE.search(text):
        return None
    parts: list[str | tuple[str, ...]] = []
    position = 0
    for match in _SIMPLE_LOOKUP.finditer(text):
        parts.append(text[position : match.start()])
        parts.append(tuple(match.group(1).split(".")))
        position = match.end()
    parts.append(text[position:])
    literals = [part for part in parts if isinstance(part, str)]
    # Jinja takes the leftmost `{{`: a `{` just before a lookup would start it one earlier.
    if any("{{" in part for part in literals) or any(part.endswith("{") for part in literals[:-1]):
        return None
    return parts


def _substitute(parts: list[str | tuple[str, ...]], context: Mapping[str, Namespace]) -> str | None:
    """The rendered text, or None when a lookup is not a plain key (Jinja decides then)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value: Any = context.get(part[0])
        if value is None:
            return None
        for key in part[1:]:
            # Keys of mappings only; anything else is Jinja's business.
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        out.append(str(value))
    return "".join(out)
