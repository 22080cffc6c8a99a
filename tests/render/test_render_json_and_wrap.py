"""Go-compatible JSON and word wrapping."""

from __future__ import annotations

from runner.render.json_output import go_json
from runner.render.wordwrap import wrap_string


def test_go_json_is_two_space_indented_and_keeps_key_order() -> None:
    value = {"z": 1, "a": [], "m": {"k": None, "t": True}}
    assert go_json(value) == (
        '{\n  "z": 1,\n  "a": [],\n  "m": {\n    "k": null,\n    "t": true\n  }\n}'
    )


def test_go_json_escapes_html_characters_like_go_and_keeps_unicode() -> None:
    assert go_json({"c": "<b> & ü\u2028"}) == '{\n  "c": "\\u003cb\\u003e \\u0026 ü\\u2028"\n}'


def test_wrap_breaks_at_the_last_space_within_the_limit() -> None:
    assert wrap_string("aaa bbb ccc", 7) == "aaa bbb\nccc"
    assert wrap_string("aaa bbb ccc", 8) == "aaa bbb\nccc"


def test_wrap_keeps_leading_spaces_existing_newlines_and_long_words() -> None:
    assert wrap_string("   $ x y", 80) == "   $ x y"
    assert wrap_string("a\n\nb", 3) == "a\n\nb"
    assert wrap_string("abcdefghij k", 4) == "abcdefghij\nk"
