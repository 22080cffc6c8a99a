"""Small helpers that word error messages: quoting user text, naming kinds, suggesting fixes."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable

# Characters str.splitlines() breaks on that JSON leaves alone: escaped so a message stays one line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def quote(value: object) -> str:
    """`value` in double quotes, with line breaks and control characters escaped."""
    text = json.dumps(str(value), ensure_ascii=False)
    for char, escaped in _LINE_BREAKS.items():
        text = text.replace(char, escaped)
    return text


def show(value: object) -> str:
    """`value` as written when it is printable, else quoted."""
    text = str(value)
    return text if text.isprintable() else quote(text)


def one_line(message: str) -> str:
    """`message` with any line break escaped: every error is one line."""
    if message.isprintable():
        return message
    return "".join(ch if ch.isprintable() else quote(ch)[1:-1] for ch in message)


def kind(value: object) -> str:
    """How a user would name the kind of a YAML value: a string, a list, a mapping..."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def suggestion(word: str, choices: Iterable[str]) -> str:
    """` (did you mean "prompt"?)` when a choice is close to `word`, else nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {quote(close[0])}?)" if close else ""
