"""The lost-contact window: it opens when the first failing poll starts and bounds every poll's
requests until it closes (`runner/execute/contact.py`). Pure: instants are given, not read."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from runner.errors import LostContactError, TransportError
from runner.execute.contact import Contact
from runner.execute.results import Notice

REFUSED = TransportError("cannot reach http://coder: connection refused")


class Bounds(list[tuple[float, str]]):
    """Each bound a poll was given: the instant its requests must end by, and why."""

    def __call__(self, instant: float, why: str) -> AbstractContextManager[None]:
        self.append((instant, why))
        return nullcontext()


def contact(grace: float) -> tuple[Contact, list[Notice]]:
    notices: list[Notice] = []
    return Contact(grace, notices.append, Bounds()), notices


def bound_of(watch: Contact, started: float) -> tuple[float, str]:
    """The bound `watch` gives a poll started at `started`."""
    with watch.bound(started):
        pass
    assert isinstance(watch.limit, Bounds)
    return watch.limit[-1]


def test_the_window_opens_when_the_first_failing_poll_started() -> None:
    watch, notices = contact(20.0)
    # A poll started at 100 hung until 119 and failed: 19 s of the window are gone.
    assert watch.failed(REFUSED, started=100.0, now=119.0) is None
    assert watch.failing and "giving up in 1s" in notices[-1].text
    stopped = watch.failed(REFUSED, started=119.5, now=120.0)
    assert isinstance(stopped, LostContactError)
    assert stopped.message == (
        "lost contact with the deployment: 2 poll(s) failed over 20s (last: "
        "cannot reach http://coder: connection refused)"
    )


def test_a_poll_that_answers_closes_the_outage() -> None:
    watch, notices = contact(20.0)
    assert watch.failed(REFUSED, started=0.0, now=1.0) is None
    watch.reached()
    assert not watch.failing
    assert notices[-1].text == "reached the deployment again after 1 failed poll(s)"
    # A later outage has a window of its own.
    assert watch.failed(REFUSED, started=50.0, now=69.0) is None


def test_a_poll_while_the_deployment_answers_gets_half_the_window() -> None:
    watch, notices = contact(4.0)
    assert bound_of(watch, 100.0) == (
        102.0,
        "half the 4s lost-contact window (--lost-contact-after)",
    )
    # Its retries ran into that bound: the failure is still reported, with half the window left.
    assert watch.failed(REFUSED, started=100.0, now=102.0) is None
    assert notices[-1].warning and "giving up in 2s" in notices[-1].text


def test_once_polls_fail_each_is_bounded_by_the_close_of_the_window() -> None:
    watch, _ = contact(30.0)
    # Polls fail: later ones get only what is left of the window opened by the first.
    watch.failed(REFUSED, started=75.0, now=100.0)
    assert bound_of(watch, 100.5) == (105.0, "the 30s lost-contact window (--lost-contact-after)")
