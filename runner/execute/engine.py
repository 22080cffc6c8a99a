"""Runs a plan: a run for each task that needs one, stepped round after round (the plan's, then
each round of retries, runner/execute/retries.py) by the stepper (runner/execute/stepper.py).
A run cleans up its task as soon as its outcome is final; those final only once their round is
judged are cleaned up in one last round (runner/execute/cleanup.py).

Each task's run makes at most one request at a time, on a pool of `parallelism` workers. All
waiting is done by polling: one list request per owner each poll interval observes every task of
the batch, however many there are; per-task requests are only creates, sends (with the log read
that guards each), deletes and resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.execute.admission import Admission
from runner.execute.cleanup import final_clean_ups
from runner.execute.results import ApplyReport, Event, Notice
from runner.execute.retries import Attempted, MakeRun, Round, RunRound, conclude
from runner.execute.run import RunSettings, TaskRun
from runner.execute.settings import DEFAULT_PARALLELISM, ExecuteSettings, Limits, poll_interval
from runner.execute.static import static_result, still_to_wait_for
from runner.execute.stepper import Engine
from runner.item import Item, ResolvedTask, task_key
from runner.model_choice import model_name
from runner.observation import Observation
from runner.plan import Action, Plan

if TYPE_CHECKING:
    from runner.backends import Backend

__all__ = ["DEFAULT_PARALLELISM", "ExecuteSettings", "execute"]


def execute(
    backend: Backend,
    plan: Plan,
    observation: Observation,
    resolved: Mapping[str, ResolvedTask],
    settings: ExecuteSettings | None = None,
    on_event: Callable[[Event], None] | None = None,
    on_notice: Callable[[Notice], None] | None = None,
) -> ApplyReport:
    """Carry out `plan`; return every task's result. Ctrl-C ends it with `interrupted` set;
    polls failing for `lost_contact_after`, or a token that stops working, end it with
    `stopped` set and the unfinished tasks' outcome unknown."""
    settings = settings or ExecuteSettings()
    emit = on_event or (lambda event: None)
    notify = on_notice or (lambda notice: None)
    server = backend.deployment
    existing = {o.task.id: o.task for o in (*observation.tasks, *observation.finished)}
    poll = settings.poll_interval or poll_interval(plan)
    run_settings = RunSettings(
        idle_grace=settings.idle_grace,
        poll_interval=poll,
        no_state_after=settings.no_state_after,
        broken_after=settings.broken_after,
        dashboard_url=server.dashboard_url,
    )

    def make_run(
        index: int, action: Action, task: Item | None, found: ResolvedTask | None
    ) -> TaskRun:
        return TaskRun(index, action, task, found, run_settings, emit, backend)

    entries: list[Attempted] = []
    for index, action in enumerate(plan.actions):
        task = existing.get(action.task_id or "")
        found = resolved.get(task_key(action.desired)) if action.desired else None
        if action.kind.changes or still_to_wait_for(action, task, settings.no_state_after):
            run = make_run(index, action, task, found)
            entries.append(Attempted(index, action, run.result, task, found, run))
        else:
            model = model_name(action.desired, found)
            result = static_result(backend, action, task, run_settings.dashboard_url, model)
            entries.append(Attempted(index, action, result, task, found))
    limits = Limits.of(settings, plan, poll)
    run_round = _round_runner(backend, plan.batch, limits, notify, settings)
    entries, outcome = conclude(backend, entries, run_round, make_run, settings.parallelism, emit)
    if not outcome.interrupted and outcome.stopped is None:  # every outcome final
        entries, outcome = _clean_up_round(entries, make_run, run_round)
    results = [e.result for e in entries]
    return ApplyReport(
        batch=plan.batch,
        results=tuple(results),
        interrupted=outcome.interrupted,
        stopped=outcome.stopped,
        server_version=server.version,
        dashboard_url=server.dashboard_url,
        budget_micros=settings.budget_micros,
    )


def _clean_up_round(
    entries: Sequence[Attempted], make_run: MakeRun, run_round: RunRound
) -> tuple[list[Attempted], Round]:
    """The clean-ups still due once every outcome is final, as runs of their own; the entries
    then hold what they did."""
    done = list(entries)
    runs = []
    for entry in final_clean_ups(entries):
        run = make_run(entry.index, entry.action, entry.task, entry.resolved)
        run.clean_up_now(entry.result)
        done[entry.index] = replace(entry, run=run)
        runs.append(run)
    if not runs:
        return done, Round(False, None)
    outcome = run_round(done, runs)
    for run in runs:
        done[run.index] = done[run.index].settled()
    return done, outcome


def _round_runner(
    backend: Backend,
    batch: str,
    limits: Limits,
    notify: Callable[[Notice], None],
    settings: ExecuteSettings,
) -> RunRound:
    """Runs each round of runs (the plan's, then each round of retries) on an engine of its
    own. The budget counts every cost known so far, whichever round read it; the unchanged
    items' cost is read (with a budget) before the first round starts."""
    first = True

    def run_round(entries: Sequence[Attempted], round_runs: Sequence[TaskRun]) -> Round:
        nonlocal first
        static = [(e.index, e.result, e.task) for e in entries if e.run is None] if first else []
        first = False
        spent = sum(e.result.cost.micros for e in entries if e.result.cost is not None)
        admission = Admission(
            backend, round_runs, settings.max_running, settings.budget_micros, spent
        )
        engine = Engine(backend, batch, list(round_runs), limits, notify, admission, settings.clock)
        interrupted = engine.run(static)
        return Round(interrupted, engine.stopped, admission.costs)

    return run_round
