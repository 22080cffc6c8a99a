"""The step summary stays one table and one list whatever the server's text holds.

A real CommonMark parser with GitHub's table extension (markdown-it-py) reads the summary back:
hostile titles, messages and pull-request URLs must come out as the same text and the same
link, never as extra cells, extra links, code or HTML; ordinary values render byte for byte as
before.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from runner.execute.results import ApplyReport, Outcome, TaskResult
from runner.item import PullRequest
from runner.report.markdown import markdown_summary

URL = "https://coder.example.com"
HOSTILE = [
    "a | b | c",
    "line one\nline two\r\nthree",
    "see [here](javascript:alert(1)) and ![x](y)",
    "`code | with pipe` and ``two``",
    "<script>alert(1)</script> <b>bold</b> <https://evil.example>",
    "ends with a backslash \\",
    "\\| escaped already \\",
    "brackets ] [ and parens ) (",
]
HOSTILE_URLS = [
    "https://github.com/o/r/pull/7)",
    "https://github.com/o/r/pull/7 (draft)",
    "https://github.com/o/r/pull/7?q=a|b&c=[d]",
    "https://github.com/o/r/pull/`7`<x>",
    "https://github.com/o/r/pull/7\n[evil](https://evil.example)",
    "https://github.com/o/r/pull/%41%20ok",
]


def parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def inline_text(token: Token) -> str:
    """The text a reader sees in an inline token: text, code and breaks, no structure."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def kinds(token: Token) -> set[str]:
    return {child.type for child in token.children or []}


def one_line(text: str) -> str:
    return " ".join(text.splitlines()).strip()


def result(message: str, url: str, title: str) -> TaskResult:
    return TaskResult(
        name="auth",
        owner="alice",
        coder_name="auth-423903",
        action="create",
        outcome=Outcome.OK,
        status="waiting",
        state="idle",
        link=f"{URL}/agents/3f2a0000-0000-4000-8000-000000000001",
        last_message=message,
        pull_request=PullRequest(url=url, state="open", title=title, additions=1, deletions=2),
    )


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_and_urls_keep_the_table_and_the_links(text: str, url: str) -> None:
    summary = markdown_summary(ApplyReport("nightly", (result(text, url, text),)))
    tokens = parse(summary)
    assert not [t for t in tokens if t.type == "html_block"]
    inlines = [t for t in tokens if t.type == "inline"]
    for inline in inlines[1:]:  # after the heading, whose batch name is a code span
        assert not kinds(inline) & {"html_inline", "image", "code_inline"}, inline.content
    cells = [t for t in tokens if t.type in ("th_open", "td_open")]
    assert len(cells) == 16  # the header and one row, eight cells each
    rows = [n for n, t in enumerate(tokens) if t.type == "tr_open"]
    row_inlines = [t for t in tokens[rows[1] :] if t.type == "inline"][:8]
    assert inline_text(row_inlines[7]) == one_line(text)
    # The task's link is the dashboard's, whole.
    link = next(c for c in row_inlines[1].children or [] if c.type == "link_open")
    assert link.attrs["href"] == f"{URL}/agents/3f2a0000-0000-4000-8000-000000000001"
    # The pull request: one list item, one link, the title as its text, the URL as its target.
    (item,) = [
        t for t in inlines if (t.children or []) and any(c.type == "link_open" for c in t.children)
    ][1:]
    links = [c for c in item.children or [] if c.type == "link_open"]
    assert len(links) == 1
    assert unquote(str(links[0].attrs["href"])) == unquote(url.strip())
    opened = [c.type for c in item.children or []].index("link_open")
    closed = [c.type for c in item.children or []].index("link_close")
    shown = Token("inline", "", 0, children=(item.children or [])[opened + 1 : closed])
    assert inline_text(shown) == one_line(text)
    assert inline_text(item).endswith(" open, +1 −2 (auth)")


def test_a_link_that_is_not_http_is_shown_as_text() -> None:
    summary = markdown_summary(
        ApplyReport("nightly", (result("ok", "javascript:alert(1)", "Add auth"),))
    )
    assert "(javascript" not in summary
    assert "- Add auth open, +1 −2 (auth)" in summary


def test_a_batch_name_with_backticks_stays_one_code_span() -> None:
    tokens = parse(markdown_summary(ApplyReport("a`b``c", ())))
    heading = next(t for t in tokens if t.type == "inline")
    (code,) = [c for c in heading.children or [] if c.type == "code_inline"]
    assert code.content == "a`b``c"


#: The summary of an ordinary run, byte for byte as it was before escaping was tightened.
NORMAL = """\
### tasks apply: `nightly`

Apply: 1 ok, 0 deleted, 0 unchanged, 1 failed, 0 timed out.

| | Task | Owner | Outcome | Status | State | Done | Message |
|---|---|---|---|---|---|---|---|
| ✅ | [auth](https://coder.example.com/agents/3f2a0000-0000-4000-8000-000000000001) | alice | ok \
| waiting | idle | created; sent 2 follow-ups | Fixed 3 flaky tests (users, billing); see PR #7. \
Added *tests* for login_flow. |
| ❌ | [docs](https://coder.example.com/tasks/bob/9) | bob | failed | active | failed | - \
| the agent failed: exit status 1 |
| … | later | alice | unfinished | - | - | - | - |

#### Pull requests

- [Add auth: login & logout](https://github.com/example/repo/pull/7) open, +12 −3 (auth)

Coder v2.38.0 at https://coder.example.com
"""


def test_an_ordinary_summary_is_unchanged() -> None:
    auth = result(
        "Fixed 3 flaky tests (users, billing); see PR #7. Added *tests* for login_flow.",
        "https://github.com/example/repo/pull/7",
        "Add auth: login & logout",
    )
    assert auth.pull_request is not None
    pull_request = PullRequest(auth.pull_request.url, "open", "Add auth: login & logout", 12, 3)
    auth = replace(auth, done=("created", "sent 2 follow-ups"), pull_request=pull_request)
    docs = TaskResult(
        name="docs",
        owner="bob",
        coder_name="docs-423903",
        action="noop",
        outcome=Outcome.FAILED,
        status="active",
        state="failed",
        link=f"{URL}/tasks/bob/9",
        error="the agent failed: exit status 1",
    )
    later = TaskResult(name="later", owner="alice", coder_name="later-423903", action="create")
    report = ApplyReport(
        "nightly", (auth, docs, later), server_version="v2.38.0", dashboard_url=URL
    )
    assert markdown_summary(report) == NORMAL
