"""A poll's own reads made at once (`runner/execute/poll_reads.py`): on threads of their own,
each within the poll's bound, their results in the order asked."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager

from runner.coder import deadline
from runner.execute.poll_reads import PollReads


def within_a_minute() -> AbstractContextManager[None]:
    return deadline.no_later_than(time.monotonic() + 60, "the poll's bound")


def test_reads_overlap_keep_the_bound_and_answer_in_order() -> None:
    both = threading.Barrier(2, timeout=30)  # broken unless two reads are in flight at once
    reads = PollReads(2)

    def read(n: int) -> tuple[int, str | None]:
        both.wait()
        bound = deadline.outer_bound()
        return n, bound[1] if bound else None

    try:
        found = reads.within(within_a_minute)([lambda: read(1), lambda: read(2)])
    finally:
        reads.close()
    assert found == [(1, "the poll's bound"), (2, "the poll's bound")]


def test_one_read_is_made_on_the_calling_thread_within_the_bound() -> None:
    reads = PollReads(4)
    here = threading.get_ident()
    found = reads.within(within_a_minute)(
        [lambda: (threading.get_ident(), deadline.outer_bound() is not None)]
    )
    assert found == [(here, True)]
    assert deadline.outer_bound() is None  # the bound ends with the read
