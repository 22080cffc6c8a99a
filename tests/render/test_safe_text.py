"""`safe_text`: control characters become visible escapes; everything printable stays."""

from __future__ import annotations

import os

from runner.execute.results import Event, TaskResult
from runner.render.safe_text import safe_line, safe_text
from runner.render.table import render_table
from runner.report.live import LiveProgress


def test_escape_sequences_become_visible_and_inert() -> None:
    assert safe_text("\x1b]0;pwned\x07") == "\\x1b]0;pwned\\x07"
    assert safe_text("a\x1b[2Jb\x9b1m") == "a\\x1b[2Jb\\x9b1m"
    assert safe_text("ok\rfake\bx\x7f") == "ok\\rfake\\bx\\x7f"
    assert safe_text("\u202eevil\u2066") == "\\u202eevil\\u2066"


def test_ordinary_text_is_kept() -> None:
    text = "Déjà vu — 日本語 ✅ tab\there\nnext line \\x1b"
    assert safe_text(text) == text
    assert safe_line("one\ntwo") == "one\\ntwo"


def test_table_measures_the_escaped_cell() -> None:
    table = render_table(["name", "message"], [["a", "x\x1by"], ["bb", "z"]])
    assert "\x1b" not in table
    lines = table.split("\n")
    assert lines[1].index("x\\x1by") == lines[2].index("z")


def test_live_view_draws_server_text_inert_on_one_line_per_task() -> None:
    written: list[str] = []
    view = LiveProgress(written.append, interval=0, size=lambda: os.terminal_size((200, 50)))
    result = TaskResult("a", "admin", "a-1", "create", status="active", state="working\x1b[2J")
    view(Event(0, result, "Step 1\r\x1b]0;pwned\x07\nforged line", final=True))
    view(Event(0, result, "again", final=True))
    first, second = written
    assert "\x1b" not in first and "\x07" not in first and "\n" not in first
    assert "\\x1b]0;pwned\\x07\\nforged line" in first
    # The redraw moves up exactly the one line drawn: only the view's own escape remains.
    assert second.startswith("\x1b[1F\x1b[J")
    assert "\x1b" not in second[len("\x1b[1F\x1b[J") :]
