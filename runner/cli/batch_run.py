"""What `plan`, `apply` and `destroy` share on the terminal: the batch service called with the
command's flags, the plan header, and a run's progress, results and reports printed.

The rules (exit codes, stop reports, report files) are the library's (`runner.report.finish`);
this module only prints what they return. No command module imports another: they share this.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from runner.cli.context import global_options
from runner.errors import TasksError
from runner.render.safe_text import safe_text

if TYPE_CHECKING:
    from runner.batch import Prepared, Source
    from runner.cli.options import BatchFlags
    from runner.execute import ApplyReport, Event, ExecuteSettings, Notice
    from runner.report.finish import ReportFiles


def prepare(ctx: click.Context, file: str, flags: BatchFlags) -> Prepared:
    """The batch service's plan for the command's flags, on the deployment of the global flags."""
    from runner import batch
    from runner.plan import PlanOptions

    options = PlanOptions(
        replace=flags.replace, prune=flags.prune, targets=frozenset(flags.targets)
    )
    given = bool(flags.targets or flags.replace or flags.prune)
    return batch.prepare(global_options(ctx), source(file, flags), options, options_given=given)


def source(file: str, flags: BatchFlags) -> Source:
    """The batch file and the flags that shape how it loads."""
    from runner.batch import Source

    return Source(file, flags.variables, flags.env_names, backend=flags.backend, model=flags.model)


def run_batch(
    ctx: click.Context,
    file: str,
    files: ReportFiles,
    settings: ExecuteSettings,
    prepare: Callable[[], Prepared],
    show: Callable[[Prepared], bool],
) -> None:
    """Prepare the batch, `show` its plan (which asks, and says whether to run), then run it and
    exit with the run's code. Its reports are written however it ends: a failure before the plan
    ran, Ctrl-C, SIGTERM or SIGHUP included."""
    prepared: Prepared | None = None
    try:
        try:
            prepared = prepare()
        except TasksError as error:
            # CI reads the reports: a run that never started still says why.
            report_failure(error, file, files)
            raise
        if not show(prepared):
            return
    except KeyboardInterrupt as stop:  # before the plan runs
        ctx.exit(report_interrupted(stop, file, prepared, files))
    ctx.exit(run_plan(prepared, settings, files))


def plan_header(prepared: Prepared, *, counted: bool = True) -> str:
    """`Batch 'nightly' (3 tasks) on Tasks (auto: ...) against Coder v2.34.2 at <url>:`."""
    observation = prepared.observation
    count = len(prepared.batch.tasks)
    tasks = f" ({count} task{'s' if count != 1 else ''})" if counted else ""
    return safe_text(
        f"Batch {prepared.batch.name!r}{tasks} on {backend_label(prepared)} against "
        f"Coder {observation.server_version} at {observation.dashboard_url}:"
    )


def backend_label(prepared: Prepared) -> str:
    """`Tasks`, `Chats`, and under auto why: the kind of the backend the service picked."""
    kind = prepared.backend.kind
    name = "Chats" if kind == "chats" else "Tasks"
    if prepared.batch.backend != "auto":
        return f"{name} (backend: {kind})"
    why = "this server serves Tasks" if kind == "tasks" else "this server serves no Tasks"
    return f"{name} (auto: {why})"


def run_plan(prepared: Prepared, settings: ExecuteSettings, files: ReportFiles) -> int:
    """Execute, print progress and results, write the reports; return the exit code."""
    from runner import batch
    from runner.report.finish import run_exit_code
    from runner.report.live import LiveProgress, PlainProgress

    live = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
    progress = LiveProgress(click.echo) if live else PlainProgress(click.echo)
    started = False

    def on_event(event: Event) -> None:
        nonlocal started
        # Progress starts below the plan, even when only waiting. The live view draws every
        # event, so the gap must come before its first block, not inside it.
        if not started and (live or not event.status_only):
            click.echo("")
            started = True
        progress(event)

    def on_notice(notice: Notice) -> None:
        if notice.warning:  # names a server's error: its text is made safe to print
            click.echo(f"warning: {safe_text(notice.text)}", err=True)
        elif not live:  # the live view shows life by itself
            click.echo(notice.text)

    report = batch.run(prepared, settings, on_event=on_event, on_notice=on_notice)
    progress.close()
    code = run_exit_code(report)
    finish(report, code, files)
    if report.interrupted:
        click.echo("Interrupted. Re-run to continue: nothing is created or sent twice.", err=True)
    if report.stopped is not None:
        raise report.stopped  # rendered once at the edge, after the table and the reports
    return code


def report_interrupted(
    stop: KeyboardInterrupt, file: str, prepared: Prepared | None, files: ReportFiles
) -> int:
    """Print and write the reports of a run stopped before its plan ran; its exit code."""
    from runner.report.finish import stopped_before_run

    report, code, how = stopped_before_run(stop, file, prepared)
    try:
        finish(report, code, files, quiet=prepared is None)
    except TasksError as unwritable:
        click.echo(f"warning: {unwritable.message}", err=True)
    click.echo(f"Interrupted by {how}: nothing was changed.", err=True)
    return code


def report_failure(error: TasksError, file: str, files: ReportFiles) -> None:
    """Write the reports of a run that failed before any task was touched."""
    from runner.report.finish import failed_before_run

    if not files.any:
        return
    try:
        finish(failed_before_run(error, file), error.exit_code, files, quiet=True)
    except TasksError as unwritable:  # the first error is the one to report
        click.echo(f"warning: {unwritable.message}", err=True)


def finish(report: ApplyReport, code: int, files: ReportFiles, *, quiet: bool = False) -> None:
    """The result lines (unless `quiet`), then the JSON, JUnit and step-summary files."""
    from runner.report.finish import result_lines, write_reports

    if not quiet:
        for line in result_lines(report, files.command_name):
            click.echo(line)
    for warning in write_reports(report, code, files):
        click.echo(f"warning: {warning}", err=True)
