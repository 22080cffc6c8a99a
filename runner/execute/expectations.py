"""`expect:` checked against what Coder says of each result once the run's waits have ended.

A result that converged (`ok`, or `unchanged` on a re-run) with an unmet expectation fails,
naming what was wanted and what was found; one whose result could not be read is `unknown`,
never a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runner.execute import record
from runner.execute.results import Expectation, Outcome, TaskResult
from runner.item import Cost, PullRequest
from runner.manifest.model import Expectations
from runner.money import parse_usd, usd
from runner.plan import Action

#: The most of a last message a pattern is matched against: its end, where agents conclude.
MESSAGE_WINDOW_BYTES = 64 * 1024
#: How much of a last message a report quotes as what was found.
QUOTED_CHARS = 200
_CHECKED = (Outcome.OK, Outcome.UNCHANGED)


def judge(actions: Sequence[Action], results: Sequence[TaskResult]) -> list[TaskResult]:
    """Each converged result (in plan order, as `actions`) checked against its expectations."""
    return [_judged(action, result) for action, result in zip(actions, results, strict=True)]


def _judged(action: Action, result: TaskResult) -> TaskResult:
    expect = action.desired.expect if action.desired else Expectations()
    if not expect or result.outcome not in _CHECKED:
        return result
    if not result.details_read:
        error = "expectations not checked: the result could not be read"
        return record.judged(result, Outcome.UNKNOWN, error)
    found = check(expect, result.pull_request, result.last_message, result.cost)
    unmet = "; ".join(e.one_line() for e in found if not e.met)
    if not unmet:
        return record.judged(result, result.outcome, result.error, tuple(found))
    return record.judged(result, Outcome.FAILED, f"expectation unmet: {unmet}", tuple(found))


def wants_last_words(actions: Sequence[Action]) -> list[bool]:
    """Whether each action's result has a `message` expectation, which is matched against the
    agent's own last words."""
    return [a.desired is not None and a.desired.expect.message is not None for a in actions]


def check(
    expect: Expectations,
    pull_request: PullRequest | None,
    last_message: str,
    cost: Cost | None = None,
) -> list[Expectation]:
    """Each expectation set, in schema order, against the pull request, last message and cost
    (a cost not read is `unknown`, never a pass)."""
    checked = []
    if expect.pull_request is not None:
        got = _pull_request_found(pull_request)
        met = got.split(" ", 1)[0] == expect.pull_request or (
            expect.pull_request == "opened" and got.startswith("merged")
        )
        checked.append(Expectation("pull_request", expect.pull_request, got, met))
    if expect.message is not None:
        window = last_message.encode()[-MESSAGE_WINDOW_BYTES:].decode(errors="ignore")
        met = re.search(expect.message, window) is not None
        checked.append(Expectation("message", expect.message, _quoted(last_message), met))
    if expect.max_cost is not None:
        most = parse_usd(expect.max_cost)
        got = "unknown" if cost is None else cost.usd
        met = cost is not None and cost.micros <= most
        checked.append(Expectation("max_cost", usd(most), got, met))
    return checked


def _pull_request_found(pull_request: PullRequest | None) -> str:
    """`none`, or the pull request's state in `expect`'s words and its URL.

    Coder's states are draft, open, merged and closed; a URL alone (Tasks, or Coder's cache not
    yet refreshed) is a pull request that was opened.
    """
    if pull_request is None:
        return "none"
    state = pull_request.state.lower()
    word = {"": "opened", "open": "opened", "draft": "opened (draft)"}.get(state, state)
    return f"{word} {pull_request.url}"


def _quoted(message: str) -> str:
    if not message:
        return "no message"
    text = " ".join(message.split())
    return text if len(text) <= QUOTED_CHARS else "…" + text[-(QUOTED_CHARS - 1) :]
