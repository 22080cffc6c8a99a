"""Word wrapping with the exact rules of Go's `github.com/mitchellh/go-wordwrap`.

Coder's help text is wrapped by that library; matching its quirks (runs of spaces kept inside a
line, the space at a break dropped, words longer than the limit left whole) keeps our help
byte-identical to Coder's.
"""

from __future__ import annotations


def wrap_string(text: str, limit: int) -> str:
    """Wrap `text` at `limit` columns, breaking only at spaces; existing newlines are kept."""
    out: list[str] = []
    current = 0
    word = ""
    space = ""
    for char in text:
        if char == "\n":
            out.append(space + word + char)
            space = word = ""
            current = 0
        elif char.isspace() and char != "\u00a0":
            if not space or word:
                current += len(space) + len(word)
                out.append(space + word)
                space = word = ""
            space += char
        else:
            word += char
            if current + len(space) + len(word) > limit and len(word) < limit:
                out.append("\n")
                current = 0
                space = ""
    if not word:
        if current + len(space) <= limit:
            out.append(space)
    else:
        out.append(space + word)
    return "".join(out)
