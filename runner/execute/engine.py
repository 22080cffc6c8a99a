"""Runs a plan: bounded parallelism for requests, one list per owner per poll for every wait.

Each task's run makes at most one request at a time, on a pool of `parallelism` workers. All
waiting is done by polling: one list request per owner each poll interval observes every task of
the batch, however many there are; per-task requests are only creates, sends (with the log read
that guards each), deletes and resumes.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from runner import defaults
from runner.coder.models import Task
from runner.errors import ApiError, AuthError, TransportError
from runner.execute.results import ApplyReport, Event, Outcome, TaskResult
from runner.execute.run import RunSettings, TaskRun
from runner.execute.versions import VersionVerdicts
from runner.observe import Observation
from runner.plan import Action, ActionKind, Plan
from runner.preflight import ResolvedTask, task_key
from runner.readiness import reached

if TYPE_CHECKING:
    from runner.backends import Backend

#: Default parallel requests. It bounds the load, not the rate: Coder's rate limit is kept by
#: pacing on its rate-limit headers (runner/coder/pacing.py).
DEFAULT_PARALLELISM = defaults.PARALLELISM


@dataclass(frozen=True)
class ExecuteSettings:
    """Flags that override the manifest, and the engine's limits."""

    parallelism: int = DEFAULT_PARALLELISM
    poll_interval: float | None = None
    idle_grace: float | None = None
    no_state_after: float = defaults.NO_STATE_IDLE_AFTER_SECONDS
    #: How long a task may stay in status error/unknown before it counts as failed.
    broken_after: float = defaults.BROKEN_AFTER_SECONDS


def execute(
    backend: Backend,
    plan: Plan,
    observation: Observation,
    resolved: Mapping[str, ResolvedTask],
    settings: ExecuteSettings = ExecuteSettings(),
    on_event: Callable[[Event], None] | None = None,
) -> ApplyReport:
    """Carry out `plan`; return every task's result. Ctrl-C ends it with `interrupted` set."""
    emit = on_event or (lambda event: None)
    server = backend.server
    existing = {o.task.id: o.task for o in observation.tasks}
    poll = settings.poll_interval or _poll_interval(plan)
    run_settings = RunSettings(
        idle_grace=settings.idle_grace,
        poll_interval=poll,
        no_state_after=settings.no_state_after,
        broken_after=settings.broken_after,
        dashboard_url=server.dashboard_url,
    )
    results: list[TaskResult] = []
    runs: list[TaskRun] = []
    static: list[tuple[TaskResult, Task | None]] = []
    versions = VersionVerdicts()  # what creates learn about a template version, for all tasks
    for action in plan.actions:
        task = existing.get(action.task_id or "")
        if action.kind.changes or _still_to_wait_for(action, task, settings.no_state_after):
            found = resolved.get(task_key(action.desired)) if action.desired else None
            run = TaskRun(action, task, found, run_settings, emit, backend, versions)
            runs.append(run)
            results.append(run.result)
        else:
            result = _static_result(backend, action, task, run_settings.dashboard_url)
            results.append(result)
            static.append((result, task))
    engine = _Engine(backend, plan.batch, runs, poll, max(1, settings.parallelism))
    interrupted = engine.run()
    if not interrupted:
        _read_details(backend, [(run.result, run.task) for run in runs] + static)
    return ApplyReport(
        batch=plan.batch,
        results=tuple(results),
        interrupted=interrupted,
        server_version=server.version,
        dashboard_url=server.dashboard_url,
    )


class _Engine:
    def __init__(
        self, backend: Backend, batch: str, runs: list[TaskRun], poll: float, parallelism: int
    ) -> None:
        self.backend = backend
        self.batch = batch
        self.runs = runs
        self.poll = poll
        self.parallelism = parallelism
        self.futures: dict[Future[Any], TaskRun] = {}
        self.last_poll = float("-inf")

    def run(self) -> bool:
        """Drive every run to an outcome; True when interrupted."""
        pool = _Workers(self.parallelism)
        try:
            now = time.monotonic()
            for run in self.runs:
                run.start(now)
            while not all(run.done for run in self.runs):
                self._step(pool)
        except KeyboardInterrupt:
            for run in self.runs:
                run.interrupt()
            pool.abandon()
            return True
        except BaseException:
            # e.g. the token stopped working: queued requests are dropped, not sent.
            pool.abandon()
            raise
        pool.close()
        return False

    def _step(self, pool: _Workers) -> None:
        now = time.monotonic()
        # Submit at most `parallelism` requests at a time: queued work waits its turn here.
        for run in self.runs:
            if len(self.futures) >= self.parallelism:
                break
            op = run.next_op(now)
            if op is not None:
                run.in_flight = True
                self.futures[pool.submit(op)] = run
        if now - self.last_poll >= self.poll and any(r.needs_observation for r in self.runs):
            self._observe(now)
            self.last_poll = now
        timeout = max(0.01, min(self.poll, self.last_poll + self.poll - time.monotonic()))
        timeout = min(timeout, self._next_ready(now))
        if self.futures:
            finished, _ = wait(list(self.futures), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in finished:
                run = self.futures.pop(future)
                error = future.exception()
                run.finish(None if error else future.result(), error, time.monotonic())
        else:
            time.sleep(timeout)
        now = time.monotonic()
        for run in self.runs:
            run.check_deadline(now)

    def _next_ready(self, now: float) -> float:
        waits = [r.not_before - now for r in self.runs if not r.done and r.not_before > now]
        return max(0.01, min(waits)) if waits else self.poll

    def _observe(self, now: float) -> None:
        owners = sorted({r.action.owner for r in self.runs if r.needs_observation})
        listed: dict[str, Task] = {}
        by_name: dict[str, Task] = {}
        for owner in owners:
            try:
                tasks = self.backend.list_items(owner, self.batch)
            except AuthError:
                raise
            except (ApiError, TransportError):
                return  # a failed poll observes nothing; the next one tries again
            for task in tasks:
                listed[task.id] = task
                by_name[f"{task.owner_name}/{task.name}".lower()] = task
        for run in self.runs:
            if run.needs_observation:
                run.observe(listed, by_name, now)


class _Workers:
    """A fixed set of daemon threads running requests, `parallelism` at a time.

    Daemon threads, unlike a ThreadPoolExecutor's, are not waited for when the process exits:
    after Ctrl-C, a worker still sleeping out a rate limit (up to minutes) must neither keep
    the command from exiting nor send its request once the run has been reported interrupted.
    """

    def __init__(self, count: int) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"apply-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((future, job))
        return future

    def close(self) -> None:
        """Stop the workers once the queued jobs are done."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def abandon(self) -> None:
        """Cancel queued jobs and leave running ones behind (they die with the process)."""
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            future, job = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except BaseException as error:  # handed to the engine thread, which decides
                future.set_exception(error)
            else:
                future.set_result(result)


def _still_to_wait_for(action: Action, task: Task | None, no_state_after: float) -> bool:
    """True for a task with nothing to change whose agent has not yet done what `wait` asks.

    A re-run after a timeout, or while agents still work, waits for them as the first run
    would have, and reports a failed agent as failed, rather than calling them unchanged. A
    paused task is left paused: nothing in the plan asks to resume it. An active task whose
    agent never reports a state counts as idle once it is older than `no_state_after`.
    """
    desired = action.desired
    if action.kind is not ActionKind.NOOP or desired is None or task is None:
        return False
    if desired.wait == "none" or task.status == "paused":
        return False
    silent_for = None
    if task.created_at is not None:
        silent_for = (datetime.now(timezone.utc) - task.created_at).total_seconds()
    return not reached(task, desired.wait, silent_for, no_state_after)


def _poll_interval(plan: Plan) -> float:
    intervals = [a.desired.poll_interval_seconds for a in plan.actions if a.desired]
    return min(intervals) if intervals else defaults.POLL_INTERVAL_SECONDS


def _read_details(backend: Backend, items: Sequence[tuple[TaskResult, Task | None]]) -> None:
    """Each remaining item's pull request and last message, once, after the run.

    What cannot be read is left out: the run's outcome is already decided.
    """
    for result, task in items:
        if task is None or result.outcome is Outcome.DELETED:
            continue
        try:
            details = backend.details(task)
        except AuthError:
            raise
        except (ApiError, TransportError):
            continue
        result.pull_request = details.pull_request
        result.last_message = details.last_message


def _static_result(
    backend: Backend, action: Action, task: Task | None, dashboard_url: str
) -> TaskResult:
    outcome = {
        ActionKind.NOOP: Outcome.UNCHANGED,
        ActionKind.DRIFT: Outcome.DRIFTED,
        ActionKind.CONFLICT: Outcome.BLOCKED,
    }[action.kind]
    result = TaskResult(
        name=action.name,
        owner=action.owner,
        coder_name=action.coder_name,
        action=action.kind.value,
        task_id=action.task_id,
        outcome=outcome,
        error="; ".join(action.reasons),
    )
    if task is not None:
        result.status = task.status
        result.state = task.state
        result.message = task.message
        if dashboard_url:
            result.link = f"{dashboard_url.rstrip('/')}{backend.dashboard_path(task)}"
    return result
