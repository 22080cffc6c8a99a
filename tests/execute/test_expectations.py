"""Expectations against what Coder says of a result: wanted, found, met; and what a result
that misses one, or whose details could not be read, becomes."""

from __future__ import annotations

from runner.execute.expectations import MESSAGE_WINDOW_BYTES, check, judge
from runner.execute.results import Expectation, Outcome, TaskResult
from runner.item import PullRequest
from runner.manifest.model import DesiredTask, Expectations
from runner.plan import Action, ActionKind

URL = "https://github.com/example/repo/pull/7"


def _pr(state: str) -> PullRequest:
    return PullRequest(url=URL, state=state)


def test_pull_request_states_against_each_expectation() -> None:
    def met(want: str, found: PullRequest | None) -> bool:
        (result,) = check(Expectations(pull_request=want), found, "")
        return result.met

    assert [met("opened", f) for f in (None, _pr(""), _pr("open"), _pr("draft"))] == [
        False,
        True,
        True,
        True,
    ]
    assert met("opened", _pr("merged")) and not met("opened", _pr("closed"))
    assert met("merged", _pr("merged")) and not met("merged", _pr("open"))
    assert not met("merged", None) and not met("merged", _pr(""))
    assert met("none", None) and not met("none", _pr("open"))


def test_what_was_found_is_said_in_expect_s_words() -> None:
    assert check(Expectations(pull_request="merged"), _pr("open"), "") == [
        Expectation("pull_request", "merged", f"opened {URL}", False)
    ]
    assert check(Expectations(pull_request="opened"), _pr("draft"), "")[0].got == (
        f"opened (draft) {URL}"
    )
    assert check(Expectations(pull_request="none"), None, "")[0].got == "none"


def test_message_is_searched_in_the_last_64_kib_only() -> None:
    expect = Expectations(message=r"tests pass\.?$")
    tail = "All green: tests pass."
    assert check(expect, None, "x" * 200_000 + tail)[0].met
    early = "tests pass" + "x" * MESSAGE_WINDOW_BYTES
    assert not check(Expectations(message="tests pass"), None, early)[0].met
    # A multi-byte character cut by the window's start is dropped, not an error.
    assert check(Expectations(message="é$"), None, "é" * MESSAGE_WINDOW_BYTES)[0].met


def test_what_was_said_is_quoted_short_on_one_line() -> None:
    (found,) = check(Expectations(message="nope"), None, "line one\nline two " + "y" * 500)
    assert not found.met and "\n" not in found.got and len(found.got) == 200
    assert found.got.startswith("…") and found.got.endswith("y")
    assert check(Expectations(message="nope"), None, "")[0].got == "no message"


def _run(expect: Expectations, outcome: Outcome, *, read: bool, said: str = "") -> TaskResult:
    desired = DesiredTask(batch="b", name="a", prompt="p", expect=expect)
    action = Action(ActionKind.CREATE, "a", "me", desired.coder_name, desired=desired)
    result = TaskResult(
        "a",
        "me",
        desired.coder_name,
        "create",
        outcome=outcome,
        details_read=read,
        last_message=said,
    )
    (judged,) = judge([action], [result])
    return judged


def test_an_unmet_expectation_fails_the_result_naming_want_and_got() -> None:
    result = _run(Expectations(message="done", pull_request="none"), Outcome.OK, read=True)
    assert result.outcome is Outcome.FAILED
    assert result.error == ("expectation unmet: message: wanted done, got no message")
    assert [e.met for e in result.expectations] == [True, False]


def test_met_expectations_keep_the_outcome() -> None:
    result = _run(Expectations(message="done"), Outcome.UNCHANGED, read=True, said="all done")
    assert result.outcome is Outcome.UNCHANGED and result.error == ""
    assert result.expectations == (Expectation("message", "done", "all done", True),)


def test_a_result_that_could_not_be_read_is_unknown_not_passed() -> None:
    result = _run(Expectations(message="done"), Outcome.OK, read=False)
    assert result.outcome is Outcome.UNKNOWN
    assert result.error == "expectations not checked: the result could not be read"


def test_results_that_did_not_converge_are_not_judged() -> None:
    for outcome in (Outcome.FAILED, Outcome.TIMEOUT, Outcome.INTERRUPTED, Outcome.DRIFTED):
        result = _run(Expectations(message="done"), outcome, read=True)
        assert result.outcome is outcome and result.expectations == ()
    assert _run(Expectations(), Outcome.OK, read=False).outcome is Outcome.OK
