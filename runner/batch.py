"""The batch service: file → desired → plan → actions → results, with no command line in sight.

`plan`, `apply` and `destroy` parse their flags, call these functions and render what comes back;
tests and benchmarks call the same functions. The deployment is reached only through a backend
(`runner.backends`), so the pipeline stays the same whatever a batch is made of.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from runner.backends import Backend
from runner.choice import Clients, choose_api
from runner.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL_FAILURE,
    EXIT_WAIT_TIMEOUT,
    InterruptedRunError,
    InvalidInputError,
    TasksError,
)
from runner.execute import (
    ApplyReport,
    Event,
    ExecuteSettings,
    Notice,
    Outcome,
    TaskResult,
    execute,
)
from runner.item import ResolvedTask, task_key
from runner.manifest.model import Batch
from runner.observation import Observation
from runner.observe import observe
from runner.plan import Plan, PlanOptions, make_plan
from runner.planfile import SavedPlan
from runner.preflight import require_cost

#: Largest manifest or plan file read (the manifest loader bounds manifests more tightly).
MAX_INPUT_BYTES = 10 * 1024 * 1024


class PlanChangedError(TasksError):
    """A saved plan no longer matches the deployment."""


@dataclass(frozen=True)
class Source:
    """Where a batch comes from: a manifest (with --var and --env) or a saved plan.

    `backend` is `--backend`: anything but `auto` wins over the manifest's `defaults.backend`.
    """

    path: str
    variables: Sequence[str] = ()
    env_names: Sequence[str] = ()
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    backend: str = "auto"  # one of BACKENDS
    model: str | None = None  # `--model`: wins over every task's `model`


def choose_backend(clients: Clients, wanted: str) -> Backend:
    """The backend a batch runs on: the API `choose_api` picks (`auto`: Tasks where the server
    serves them, else Chats), wrapped for the pipeline."""
    from runner.coder.client import CoderClient, directory_client

    api = choose_api(clients, wanted)
    if isinstance(api, CoderClient):
        from runner.backends.tasks import TasksBackend

        return TasksBackend(api)
    from runner.backends.chats import ChatsBackend

    return ChatsBackend(api, directory_client(api))


@dataclass
class Prepared:
    """A batch, what the deployment holds for it, and the plan between them."""

    backend: Backend
    batch: Batch
    observation: Observation
    resolved: Mapping[str, ResolvedTask]
    plan: Plan
    saved: SavedPlan | None = None


def load_input(source: Source) -> tuple[Batch, SavedPlan | None]:
    """A manifest loaded and rendered, or a saved plan (then --var/--env must not be given).

    The file is read once: a plan is parsed from those bytes, a manifest loaded from them.
    The batch carries the backend asked for (`Source.backend` over the file's own choice).
    """
    batch, saved = _load(source)
    if source.model is not None:
        if saved is not None:
            raise InvalidInputError(
                f"{source.path} is a saved plan: its tasks carry their models, so --model "
                "does not apply"
            )
        tasks = tuple(replace(task, model=source.model) for task in batch.tasks)
        batch = replace(batch, tasks=tasks)
    if source.backend == "auto" or source.backend == batch.backend:
        return batch, saved
    batch = replace(batch, backend=source.backend)
    return batch, (replace(saved, batch=batch) if saved is not None else None)


def _load(source: Source) -> tuple[Batch, SavedPlan | None]:
    from runner import planfile

    path = source.path
    data = _read(path)
    text = data.decode("utf-8", errors="replace")
    if planfile.looks_like_plan(text):
        if source.variables or source.env_names:
            raise InvalidInputError(
                f"{path} is a saved plan: its tasks are already rendered, so --var and --env "
                "do not apply"
            )
        saved = planfile.load_plan(path, text)
        return saved.batch, saved
    from runner.manifest import load_batch
    from runner.manifest.variables import parse_var_options

    batch = load_batch(
        path,
        variables=parse_var_options(source.variables),
        env_names=source.env_names,
        environ=source.environ,
        data=data,
    )
    return batch, None


def prepare(
    clients: Clients,
    source: Source,
    options: PlanOptions,
    *,
    options_given: bool = False,
) -> Prepared:
    """Load, choose the backend, preflight, observe and plan. A saved plan brings its own options.

    The backend is the one `--backend` asks for, else the manifest's (or saved plan's) choice.
    """
    batch, saved = load_input(source)
    backend = choose_backend(clients, batch.backend)
    if saved is not None:
        if options_given:
            raise InvalidInputError(
                f"{source.path} is a saved plan: it carries its own --target, --replace and --prune"
            )
        options = saved.options
    return plan_batch(backend, batch, options, saved)


def plan_batch(
    backend: Backend,
    batch: Batch,
    options: PlanOptions | None = None,
    saved: SavedPlan | None = None,
) -> Prepared:
    """Preflight, observe and plan a batch already loaded (or built in code)."""
    options = options or PlanOptions()
    server = f"Coder {backend.deployment.short_version} on {backend.kind}"
    require_cost(batch, backend.has_cost, server)
    resolved = backend.resolve(batch.tasks)
    owners = {t.owner: resolved[task_key(t)].owner for t in batch.tasks}
    observation = observe(backend, batch, owners=owners, all_visible=options.prune)
    fingerprint = observation.fingerprint(batch.name, [t.coder_name for t in batch.tasks])
    plan = make_plan(batch, observation, options, resolved, fingerprint=fingerprint)
    backend.require_creatable(plan.creating(), resolved)
    return Prepared(backend, batch, observation, resolved, plan, saved)


def prepare_destroy(clients: Clients, source: Source) -> Prepared:
    """A plan deleting every task the batch owns, whoever owns it, on the batch's backend."""
    batch, _ = load_input(source)
    backend = choose_backend(clients, batch.backend)
    # Every task the token can see: an owner dropped from the manifest may still hold some.
    empty = Batch(batch.name, (), batch.source, batch.backend)
    observation = observe(backend, empty, all_visible=True, read_logs=False)
    plan = make_plan(empty, observation, PlanOptions(prune=True))
    return Prepared(backend, batch, observation, {}, plan)


def check_saved(prepared: Prepared, path: str) -> None:
    """Refuse a saved plan made for another deployment, or one the deployment moved past."""
    saved = prepared.saved
    if saved is None:
        return
    url = prepared.observation.dashboard_url
    if saved.server_url and saved.server_url != url:
        raise PlanChangedError(
            f"{path} was made for {saved.server_url}, not {url}; nothing was applied"
        )
    if saved.fingerprint != prepared.plan.fingerprint:
        raise PlanChangedError(
            f"the deployment changed since {path} was made; nothing was applied",
            details=["make a new plan with `tasks plan ... --out` and review it"],
        )


def run(
    prepared: Prepared,
    settings: ExecuteSettings | None = None,
    on_event: Callable[[Event], None] | None = None,
    on_notice: Callable[[Notice], None] | None = None,
) -> ApplyReport:
    """Carry out the prepared plan; every event goes to `on_event`, run-wide notices to
    `on_notice`. The manifest's `max_running` holds unless the settings (`--max-running`) set
    one; its budget always holds."""
    settings = settings or ExecuteSettings()
    limits = prepared.batch.limits
    settings = replace(
        settings,
        max_running=settings.max_running or limits.max_running,
        budget_micros=limits.budget_micros,
    )
    return execute(
        prepared.backend,
        prepared.plan,
        prepared.observation,
        prepared.resolved,
        settings,
        on_event=on_event,
        on_notice=on_notice,
    )


def interrupted_before_run(name: str, plan: Plan | None, how: str) -> ApplyReport:
    """The report of a run interrupted (`how`: `SIGTERM`, ...) before its plan ran.

    Nothing was changed: every planned task is interrupted, not started; without a plan (still
    in preflight, observing or planning) the report says so as its error.
    """
    if plan is None:
        error = InterruptedRunError(
            f"interrupted by {how} before the plan was made; nothing was changed"
        )
        return ApplyReport(batch=name, results=(), interrupted=True, stopped=error)
    results = tuple(
        TaskResult(
            name=action.name,
            owner=action.owner,
            coder_name=action.coder_name,
            action=action.kind.value,
            task_id=action.task_id,
            outcome=Outcome.INTERRUPTED,
            error=f"not started: interrupted by {how} before the plan ran",
        )
        for action in plan.actions
    )
    return ApplyReport(batch=plan.batch, results=results, interrupted=True)


def exit_code(report: ApplyReport) -> int:
    """0 all converged; 4 some failed, some missed an expectation, or the budget skipped some;
    5 a wait timed out (none failed); 1 everything failed with an error.

    An interrupted run is 130 whatever the tasks did, in the reports as well as the process;
    a run stopped by an error (lost contact, a revoked token) has that error's code.
    """
    if report.interrupted:
        return EXIT_INTERRUPTED
    if report.stopped is not None:
        return report.stopped.exit_code
    outcomes = [r.outcome for r in report.results]
    failed = sum(1 for o in outcomes if o is not None and o.is_failure)
    timed_out = outcomes.count(Outcome.TIMEOUT)
    if Outcome.SKIPPED in outcomes:
        return EXIT_PARTIAL_FAILURE  # the budget stopped the batch part-way
    # An agent that ran but missed its expectation is a result, not an error of the run.
    missed = any(r.unmet for r in report.results)
    if failed and failed == len(outcomes) and not missed:
        return EXIT_ERROR
    if failed:
        return EXIT_PARTIAL_FAILURE
    if timed_out:
        return EXIT_WAIT_TIMEOUT
    return EXIT_OK


def _read(path: str) -> bytes:
    """The bytes of a manifest or plan file; a missing or unreadable file is invalid input."""
    file = Path(path)
    try:
        if file.is_dir():
            raise InvalidInputError(f"{path}: is a directory, not a manifest or plan file")
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise InvalidInputError(f"{path}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB")
        return file.read_bytes()
    except OSError as error:
        raise InvalidInputError(f"{path}: cannot read: {error.strerror or error}") from error
