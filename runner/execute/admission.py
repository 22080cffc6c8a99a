"""Which of a batch's runs may work now (`max_running`), and what its budget still allows.

A run of a manifest task works from when the engine starts it until it has ended and, on a
server that keeps cost (Chats v2.36+), its chat's cost has been read: that one read, when the
run ends, is what the budget knows of the spend, so the next run starts only once it is known.
Prune deletes are not bounded. With a budget, what the batch's unchanged chats cost is read
before anything starts, so a re-run does not spend the budget twice. Once the known spend
reaches the budget, runs not started end `skipped`, and so does a run about to create its chat
or send a follow-up; runs already working go on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.errors import ApiError, AuthError, TransportError
from runner.execute import record
from runner.execute.results import Outcome, TaskResult
from runner.execute.run import TaskRun
from runner.execute.state import Step
from runner.item import Cost, Item
from runner.money import usd
from runner.plan import ActionKind

if TYPE_CHECKING:
    from runner.backends import Backend

Submit = Callable[[Callable[[], Any]], "Future[Any]"]
#: The steps the budget stops: what would make a chat or start another turn.
_SPENDING = (Step.CREATE, Step.SEND)


class Admission:
    """Starts runs in plan order as bounds allow, and reads each chat's cost once it ends."""

    def __init__(
        self,
        backend: Backend,
        runs: Sequence[TaskRun],
        max_running: int | None,
        budget_micros: int | None,
        spent: int = 0,
    ) -> None:
        self.backend = backend
        self.runs = runs
        self.max_running = max_running
        self.budget = budget_micros
        self.waiting: deque[int] = deque(range(len(runs)))  # not started, in plan order
        self.working: set[int] = set()  # started bounded runs, until their cost is known
        #: Cost reads in flight: the run each holds (by its place in `runs`), or the plan index
        #: of an unchanged item read before the runs start.
        self.reads: dict[Future[Any], _Read] = {}
        self.spent = spent  # every cost known before these runs start
        self.costs: dict[int, Cost] = {}  # the unchanged items' costs, by plan index

    @property
    def busy(self) -> bool:
        """Runs are still to start, or costs to be read."""
        return bool(self.waiting or self.reads)

    @property
    def reached(self) -> bool:
        return self.budget is not None and self.spent >= self.budget

    def open(self, static: Sequence[tuple[int, TaskResult, Item | None]], submit: Submit) -> None:
        """With a budget, read what the batch's unchanged items (by plan index) cost before
        anything starts; `costs` then holds what was read."""
        if self.budget is None or not self.backend.has_cost:
            return
        for index, result, task in static:
            if task is not None and result.outcome is not Outcome.DELETED:
                self._read(_Read(index, held=False, before=result.cost), task, submit)

    def admit(self, now: float) -> list[int]:
        """The runs to start now, in plan order; those the budget leaves out end skipped."""
        started: list[int] = []
        if any(not read.held for read in self.reads.values()):
            return started  # the spend before this run is not known yet
        while self.waiting:
            index = self.waiting[0]
            run = self.runs[index]
            bounded = run.action.desired is not None
            if bounded and self.reached:
                run.skip(self.why(), now)
            elif bounded and self.max_running is not None:
                if len(self.working) >= self.max_running:
                    break
                self.working.add(index)
                started.append(index)
            else:
                started.append(index)
            self.waiting.popleft()
        return started

    def refuses(self, run: TaskRun) -> bool:
        """Whether the budget stops the request `run` is about to make (a replace stops before
        its delete, so it never leaves the item deleted and not recreated)."""
        step = run.state.step
        replacing = step is Step.DELETE and run.action.kind is ActionKind.REPLACE
        return self.reached and (step in _SPENDING or replacing)

    def why(self) -> str:
        """`budget reached: spent $1.20 of $1.00`."""
        assert self.budget is not None
        return f"budget reached: spent {usd(self.spent)} of {usd(self.budget)}"

    def ended(self, index: int, submit: Submit) -> None:
        """A run is done: read its chat's cost (where kept); its place frees once that is known."""
        run = self.runs[index]
        deleted = run.result.outcome is Outcome.DELETED
        counted = run.progress.cost_counted
        if counted is not None:  # read as the run concluded (cleanup.py)
            self.spent += counted
        if counted is not None or deleted or run.task is None or not self.backend.has_cost:
            self.working.discard(index)
            return
        self._read(_Read(index, held=True, before=run.result.cost), run.task, submit)

    def read_done(self, future: Future[Any]) -> None:
        """Take a finished cost read; one that failed leaves the cost unknown (read again with
        the reports). A revoked token ends the run, as anywhere."""
        read = self.reads.pop(future)
        if read.held:
            self.working.discard(read.index)
        error = future.exception()
        if error is not None and (
            isinstance(error, AuthError) or not isinstance(error, (ApiError, TransportError))
        ):
            raise error
        cost: Cost | None = None if error is not None else future.result()
        if cost is None:
            return
        # A retried chat's cost is read again, its earlier attempts included.
        self.spent += cost.micros - (read.before.micros if read.before else 0)
        if read.held:
            record.cost_read(self.runs[read.index], cost)
        else:
            self.costs[read.index] = cost

    def _read(self, read: _Read, task: Item, submit: Submit) -> None:
        backend = self.backend
        self.reads[submit(lambda: backend.cost(task))] = read


@dataclass(frozen=True)
class _Read:
    """A cost read in flight: for a run it holds a place of (`held`, by its place in the
    round), or for an unchanged item (by plan index); and the cost known before it."""

    index: int
    held: bool
    before: Cost | None
