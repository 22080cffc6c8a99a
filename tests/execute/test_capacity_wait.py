"""A task's timeout runs only while the server works on it, not while its chat waits for a
capacity slot (CHATS-CONTRACT 7.4), driven by hand as in test_run_states.

The same polls, with and without the `queued_for_capacity` mark a Chats backend puts on a
queued chat, show both rules: from create (the old rule) the run times out; from the moment the
agent starts on it, it ends ok. The timeout is 100 s.
"""

from __future__ import annotations

from execute.test_run_states import Driver
from runner.execute.hold import CapacityHold
from runner.execute.requests import Created
from runner.execute.results import Outcome
from runner.execute.state import Done, Step


def _queued_then_working(*, marked: bool) -> Driver:
    """Created at 0, queued for capacity until 150, working until 190: polled every 10 s."""
    d = Driver()
    d.start(0.0)
    assert isinstance(d.step(0.0), Created)
    d.report("working", second=1)
    d.change(queued_for_capacity=marked)
    _polls(d, range(10, 150, 10))
    d.change(queued_for_capacity=False)
    _polls(d, range(150, 190, 10))
    return d


def _polls(d: Driver, times: range) -> None:
    for now in times:
        if d.run.done:
            return
        d.poll(float(now))
        d.deadline(float(now))


def test_a_timeout_counted_from_create_ends_a_chat_that_waited_for_capacity() -> None:
    d = _queued_then_working(marked=False)
    assert d.run.state == Done(Outcome.TIMEOUT)
    assert d.run.result.error == "timed out: the agent was not idle"
    assert d.run.result.finished_at is not None


def test_time_queued_for_capacity_does_not_count_against_the_timeout() -> None:
    d = _queued_then_working(marked=True)
    assert d.run.state.step is Step.WAIT  # 40 s of work so far, of 100
    assert "queued for capacity: its timeout waits until the agent starts on it" in d.events
    d.report("idle", second=9)
    d.poll(190.0)
    assert d.run.state == Done(Outcome.OK)


def test_the_timeout_still_ends_a_chat_that_works_too_long_after_its_wait() -> None:
    d = _queued_then_working(marked=True)
    d.poll(240.0)
    d.deadline(240.0)
    assert d.run.state.step is Step.WAIT  # started at 0 + 150 queued: 90 s of work
    d.poll(251.0)
    d.deadline(251.0)
    assert d.run.state == Done(Outcome.TIMEOUT)


def test_a_turn_seen_queued_was_queued_since_it_began() -> None:
    hold = CapacityHold().turn(10.0)  # a send at 10
    hold = hold.seen(False, 12.0)  # not known queued yet (no read this poll)
    hold = hold.seen(True, 20.0)  # a turn is never queued again once taken up: since 10
    assert hold.seen(True, 30.0) == hold
    assert hold.deadline(100.0, 30.0) == 120.0
    hold = hold.seen(False, 40.0)
    assert hold.deadline(100.0, 99.0) == 130.0  # 30 s held, from 10 to 40
    assert hold.turn(50.0).deadline(100.0, 60.0) == 130.0  # what was held stays held
