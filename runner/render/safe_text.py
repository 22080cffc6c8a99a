"""Server text made safe to print for a human: control characters shown, never obeyed.

Anything a server (or a proxy in front of it) sends can carry terminal escape sequences: an OSC
that retitles the terminal, a CSI that moves the cursor over earlier lines, a carriage return
that overwrites what was printed, a C1 control that some terminals read as ESC. Every human
rendering passes its text through `safe_text`, which replaces each such character with a
visible, inert escape (`\\x1b`, `\\r`, `\\u202e`), so the rest of a sequence prints as plain
text. Line feeds and tabs are ordinary layout and are kept; so is every printable character of
any script. JSON output is never passed through here: it stays byte-exact.
"""

from __future__ import annotations

#: Named escapes for the controls a reader most often meets; the rest are shown in hex.
_NAMED = {"\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v"}

#: Bidirectional embeddings, overrides and isolates reorder what follows them on screen, so
#: they can make printed text read differently from what it is.
_BIDI = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def _visible(code: int) -> str:
    char = chr(code)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


#: C0 controls except line feed and tab, DEL, the C1 controls, and the bidi controls.
_TABLE = {
    code: _visible(code)
    for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), *_BIDI)
    if chr(code) not in "\n\t"
}


def safe_text(text: str) -> str:
    """`text` with every control character replaced by a visible escape (line feed, tab kept)."""
    return text.translate(_TABLE)


def safe_line(text: str) -> str:
    """`safe_text` for a place that holds one line: line feeds are shown as `\\n` too."""
    return safe_text(text).replace("\n", "\\n")
