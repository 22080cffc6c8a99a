"""A task's `expect:` and `after:` from its manifest fields: what the schema cannot check, checked
once when the file loads."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runner.manifest.model import Expectations
from runner.manifest.yamltree import PathPart

#: Reports a problem at a path of the document.
Report = Callable[[Sequence[PathPart], str], None]


def expectations(
    fields: Mapping[str, Any], sources: Mapping[str, list[PathPart]], report: Report
) -> Expectations | None:
    """The task's expectations (empty when it has none), or None after reporting a problem.

    The schema has checked the shape; what it cannot say is whether the pattern compiles and
    whether the task waits at all: an expectation is checked when the wait ends, so `wait: none`
    would never check it.
    """
    data = fields.get("expect")
    if not data:
        return Expectations()
    at = [*sources["expect"], "expect"]
    ok = True
    message = data.get("message")
    if message is not None:
        problem = pattern_problem(message)
        if problem:
            report([*at, "message"], problem)
            ok = False
    if fields.get("wait") == "none":
        report(at, "expect needs a wait: the task's `wait` is none, so nothing would be checked")
        ok = False
    if not ok:
        return None
    return Expectations(data.get("pull_request"), message, data.get("max_cost"))


def clean_up_allowed(
    fields: Mapping[str, Any], sources: Mapping[str, list[PathPart]], report: Report
) -> bool:
    """Whether the task's `after:` can be applied; False after reporting why not.

    Clean-up follows a final outcome, and with `wait: none` the outcome is final as soon as the
    task is created: stopping or removing it then would end the agent's work before it began.
    """
    if fields.get("after", "keep") == "keep" or fields.get("wait") != "none":
        return True
    # Located in the task where it sets either, so the line names the task that waits for none.
    key = "after" if sources["after"][0] == "tasks" else "wait"
    report(
        [*sources[key], key],
        f"after: {fields['after']} needs a wait: the task's `wait` is none, so its agent would "
        "be stopped as soon as it is created",
    )
    return False


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not a regular expression Python's `re` compiles, or None."""
    try:
        re.compile(pattern)
    except re.error as error:
        where = f" at position {error.pos}" if error.pos is not None else ""
        return f"expect.message is not a valid regular expression: {error.msg}{where}"
    return None
