"""Steps a round of task runs to their outcomes: bounded parallelism for requests, one list per
owner per poll for every wait, runs started as admission allows (runner/execute/admission.py).
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import TYPE_CHECKING, Any

from runner.errors import ApiError, AuthError, TasksError, TransportError
from runner.execute.admission import Admission
from runner.execute.contact import Contact
from runner.execute.listing import Listing
from runner.execute.poll_reads import PollReads
from runner.execute.results import Notice, TaskResult
from runner.execute.run import TaskRun
from runner.execute.settings import Limits
from runner.execute.state import Step
from runner.execute.workers import Workers
from runner.item import Item
from runner.readiness import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from runner.backends import Backend

#: On a stop, how long requests already sent may take to answer before they count as unknown.
IN_FLIGHT_GRACE_SECONDS = 2.0


class Engine:
    """Steps the runs; each step touches only the runs something happened to.

    Runs not yet done are kept by plan index in `active`; `ready` (a heap, so earlier tasks go
    first) holds the ones that may want a request now, `timers` the ones waiting out a
    `not_before`, `deadlines` every run's wait deadline, `watching` the ones whose next
    step depends on a poll, and `parked` the ones waiting on another run's request. A step
    costs the changes it handles, not the size of the batch. Runs start as `admission` allows
    (`max_running`, the budget), which also reads each chat's cost when its run ends.
    """

    pool: Workers  # made when the run begins

    def __init__(
        self,
        backend: Backend,
        batch: str,
        runs: list[TaskRun],
        limits: Limits,
        notify: Callable[[Notice], None],
        admission: Admission,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.backend = backend
        self.clock = clock  # every `now` of the runs, and every pause between steps
        self.admission = admission
        self.batch = batch
        self.runs = runs
        self.poll = limits.poll
        self.parallelism = limits.parallelism
        self.limits = limits
        self.notify = notify
        self.futures: dict[Future[Any], int] = {}
        self.last_poll = float("-inf")
        self.active: dict[int, TaskRun] = {}
        self.ready: list[int] = []
        self.queued: set[int] = set()
        self.timers: list[tuple[float, int]] = []
        self.deadlines: list[tuple[float, int]] = []
        self.has_deadline: set[int] = set()
        self.overdue: set[int] = set()
        self.watching: set[int] = set()
        self.parked: set[int] = set()
        self.contact = Contact(limits.lost_contact_after, notify, backend.no_later_than)
        self.poll_reads = PollReads(limits.parallelism)  # a poll's own reads, at once
        self.last_progress = 0.0
        self.stopped: TasksError | None = None

    def run(self, static: Sequence[tuple[int, TaskResult, Item | None]]) -> bool:
        """Drive every run to an outcome; True when interrupted. `static`: the items with no
        run (by plan index), whose cost the budget reads first (runner/execute/admission.py)."""
        pool = self.pool = Workers(self.parallelism)
        try:
            return self._run(pool, static)
        finally:
            self.poll_reads.close()

    def _run(self, pool: Workers, static: Sequence[tuple[int, TaskResult, Item | None]]) -> bool:
        try:
            self.last_progress = self.clock()
            self.admission.open(static, pool.submit)
            self._admit()
            while (self.active or self.admission.busy) and self.stopped is None:
                self._step(pool)
        except AuthError as error:
            # e.g. the token was revoked: nothing more can be asked; report what is known.
            self.stopped = error
        except KeyboardInterrupt:
            self._settle_in_flight()
            for run in self.runs:
                run.interrupt()
            pool.abandon()
            return True
        except BaseException:
            # e.g. the token stopped working: queued requests are dropped, not sent.
            pool.abandon()
            raise
        if self.stopped is not None:
            self._settle_in_flight()
            for run in self.runs:
                run.lose_contact(self.stopped.message)
            pool.abandon()
            return False
        pool.close()
        return False

    def _settle_in_flight(self) -> None:
        """Record what in-flight requests did, waiting a moment for them; the rest stay unknown.

        A create answered just before the stop is then reported as created, not lost.
        """
        if not self.futures:
            return
        with contextlib.suppress(KeyboardInterrupt):  # asked twice: stop now
            # Real seconds: the grace is for answers on the wire, not a pause of the run.
            wait(list(self.futures), timeout=IN_FLIGHT_GRACE_SECONDS)
        now = self.clock()
        for future, index in list(self.futures.items()):
            if not future.done() or future.cancelled():
                continue
            del self.futures[future]
            error = future.exception()
            # Stopping anyway: an auth error leaves the run at the step that asked.
            with contextlib.suppress(TasksError):
                self.runs[index].finish(None if error else future.result(), error, now)

    def _touch(self, index: int) -> None:
        """File a run again after something happened to it."""
        run = self.runs[index]
        step = run.state.step
        if step is Step.DONE:
            if self.active.pop(index, None) is not None:
                self.admission.ended(index, self.pool.submit)
            self.watching.discard(index)
            self.overdue.discard(index)
            self.parked.discard(index)
            return
        if index not in self.queued:
            self.queued.add(index)
            heapq.heappush(self.ready, index)
        if step.watches:
            self.watching.add(index)
        else:
            self.watching.discard(index)
        if run.deadline is not None and index not in self.has_deadline:
            self.has_deadline.add(index)
            heapq.heappush(self.deadlines, (run.deadline, index))

    def _step(self, pool: Workers) -> None:
        now = self.clock()
        while self.timers and self.timers[0][0] <= now:
            _, index = heapq.heappop(self.timers)
            if index in self.active and index not in self.queued:
                self.queued.add(index)
                heapq.heappush(self.ready, index)
        self._submit(pool, now)
        if self.watching and now >= self._next_poll():
            self._observe(now)
            self.last_poll = now
        self._progress(now)
        timeout = max(0.01, min(self.poll, self._next_poll() - self.clock()))
        if self.timers:
            timeout = min(timeout, max(0.01, self.timers[0][0] - now))
        changed: list[int] = []
        if self.futures or self.admission.reads:
            # Waiting on requests is an event wait, not a pause: a worker's answer ends it at
            # once. Its timeout (when the next poll or timer is due) counts real seconds, as
            # the requests do; on a stepped clock the loop then reads the clock again.
            pending = [*self.futures, *self.admission.reads]
            finished, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in finished:
                if future not in self.futures:
                    self.admission.read_done(future)
                    continue
                index = self.futures.pop(future)
                error = future.exception()
                self.runs[index].finish(None if error else future.result(), error, self.clock())
                changed.append(index)
        else:
            self.clock.sleep(timeout)
        if changed and self.parked:
            changed.extend(self.parked)
            self.parked.clear()
        for index in changed:
            self._touch(index)
        self._admit()
        now = self.clock()
        if self.contact.failing:
            return  # no deadline passes while the deployment cannot be seen
        while self.deadlines and self.deadlines[0][0] <= now:
            self.overdue.add(heapq.heappop(self.deadlines)[1])
        for index in list(self.overdue):
            run = self.runs[index]
            run.check_deadline(now)
            if run.state.step is Step.DONE:
                self._touch(index)

    def _submit(self, pool: Workers, now: float) -> None:
        """Submit at most `parallelism` requests at a time: queued work waits its turn here."""
        while self.ready and len(self.futures) < self.parallelism:
            index = heapq.heappop(self.ready)
            self.queued.discard(index)
            run = self.runs[index]
            if self.admission.refuses(run):
                run.skip(self.admission.why(), now)
            op = run.next_op(now)  # the run's state now shows the request asked
            step = run.state.step
            if op is not None:
                self.watching.discard(index)
                self.futures[pool.submit(op)] = index
            elif step is Step.DONE:  # e.g. its template version was refused to another task
                self._touch(index)
            elif not step.asked and run.not_before > now:
                heapq.heappush(self.timers, (run.not_before, index))
            elif not step.asked and not step.watches:
                # Waits on another run (a version's verdict): asked again when one finishes.
                self.parked.add(index)

    def _admit(self) -> None:
        """Start the runs the bounds now allow (runner/execute/admission.py)."""
        now = self.clock()
        for index in self.admission.admit(now):
            run = self.runs[index]
            run.start(now)
            self.active[index] = run
            self._touch(index)

    def _next_poll(self) -> float:
        """When to poll next: a poll interval after the last, or when the lost-contact window
        closes, so that a run whose polls fail fast ends then, not a poll interval later."""
        due = self.last_poll + self.poll
        closes = self.contact.closes_at()
        return due if closes is None else min(due, closes)

    def _observe(self, now: float) -> None:
        watching = sorted(self.watching)
        owners = sorted({self.runs[i].action.owner for i in watching})
        listed: dict[str, Item] = {}
        for owner in owners:
            try:
                with self.contact.bound(now):
                    tasks = self.backend.list_items(owner, self.batch)
            except AuthError:
                raise
            except (ApiError, TransportError) as error:
                self.stopped = self.contact.failed(error, now, self.clock())
                return  # a failed poll observes nothing; the next one tries again
            for task in tasks:
                listed[task.id] = task
        ids = {self.runs[index].result.task_id for index in watching}
        waits = [task for task_id, task in listed.items() if task_id in ids]
        # The capacity reads are a poll's too: a server that stops answering them must end the
        # run by the lost-contact window, not by each read's own deadline.
        reads = self.poll_reads.within(lambda: self.contact.bound(now))
        listed.update((t.id, t) for t in self.backend.with_capacity_waits(waits, reads))
        listing = Listing.of(listed.values(), self.backend.made_here)
        self.contact.reached()
        for index in watching:
            run = self.runs[index]
            if run.state.step.watches:
                run.observe(listing, now)
            self._touch(index)

    def _progress(self, now: float) -> None:
        """A line of counts at intervals, so a long wait shows life in a log."""
        if now - self.last_progress < self.limits.progress_every:
            return
        self.last_progress = now
        states: dict[str, int] = {}
        for run in self.active.values():
            result = run.result
            what = result.state or result.status or run.state.step.phase.value
            states[what] = states.get(what, 0) + 1
        if self.admission.waiting:  # held back by max_running
            states["not started"] = len(self.admission.waiting)
        done = len(self.runs) - len(self.active) - len(self.admission.waiting)
        parts = [f"{count} {state}" for state, count in sorted(states.items())]
        self.notify(Notice("waiting: " + ", ".join([f"{done} done", *parts])))
