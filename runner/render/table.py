"""Tables in the layout of Coder's `cliui` (go-pretty with borders off).

Headers are upper-case; every cell, the last column's included, is padded to its column's width
plus two spaces (Coder's golden files keep that trailing padding, so the imperative commands do
too; tables of our own drop it); a cell with line breaks spans several lines. Rows are sorted
by the sort column when that column is shown, else kept in the given order.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from runner.render.safe_text import safe_text

_PADDING = "  "


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide East Asian characters count two, combining marks 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    sort_by: str | None = None,
    trailing_padding: bool = True,
) -> str:
    """Render `rows` under `headers` (lower-case names); no trailing newline.

    Control characters in cells are shown as visible escapes (`runner.render.safe_text`).
    """
    ordered = list(rows)
    if sort_by is not None and sort_by in headers:
        index = list(headers).index(sort_by)
        ordered.sort(key=lambda row: row[index])
    table = [[h.upper() for h in headers], *[list(r) for r in ordered]]
    # Cells are made safe before measuring: a shown escape takes the columns it is printed in.
    cells = [[safe_text(cell).split("\n") for cell in row] for row in table]
    widths = [
        max((display_width(line) for row in cells for line in row[col]), default=0)
        for col in range(len(headers))
    ]
    out: list[str] = []
    for row in cells:
        height = max((len(cell) for cell in row), default=1)
        for line_no in range(height):
            parts = []
            for col, cell in enumerate(row):
                line = cell[line_no] if line_no < len(cell) else ""
                parts.append(line + " " * (widths[col] - display_width(line)) + _PADDING)
            text = "".join(parts)
            out.append(text if trailing_padding else text.rstrip(" "))
    return "\n".join(out)
