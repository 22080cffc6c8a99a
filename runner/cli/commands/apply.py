"""`tasks apply FILE|PLANFILE`: converge the deployment to a batch, wait, and report."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runner import defaults
from runner.cli import signals
from runner.cli.commands.plan import manifest_options, plan_header, prepare, source
from runner.cli.options import check_writable, confirm, parse_go_duration
from runner.durations import format_seconds
from runner.errors import (
    InvalidInputError,
    TasksError,
)

if TYPE_CHECKING:
    from runner.batch import Prepared
    from runner.execute import ApplyReport, Event, ExecuteSettings, Notice

F = TypeVar("F", bound=Callable[..., Any])


def run_options(func: F) -> F:
    """--yes, --parallelism, --report, --junit (shared by apply and destroy)."""
    decorators = [
        click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation."),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=defaults.PARALLELISM,
            show_default=True,
            help="Requests in flight at once. Coder's rate limit (512 requests/minute per "
            "route by default) is kept by pacing on its rate-limit headers, whatever this is.",
        ),
        click.option("--report", "report_path", metavar="FILE", help="Write results as JSON."),
        click.option("--junit", "junit_path", metavar="FILE", help="Write results as JUnit XML."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@click.command("apply")
@click.argument("file", metavar="FILE|PLANFILE")
@manifest_options
@run_options
@click.option("--dry-run", is_flag=True, help="Observe and preflight only; change nothing.")
@click.option(
    "--poll-interval",
    metavar="DURATION",
    help="How often to observe the tasks while waiting (overrides the manifest), e.g. 2s.",
)
@click.option(
    "--idle-grace",
    metavar="DURATION",
    help="How long idle must hold before it counts (overrides the manifest), e.g. 5s.",
)
@click.option(
    "--lost-contact-after",
    metavar="DURATION",
    help="Stop (exit 1, reports written) once polls have failed this long in a row "
    f"(overrides the manifest; default {format_seconds(defaults.LOST_CONTACT_AFTER_SECONDS)}).",
)
@click.pass_context
def command(
    ctx: click.Context,
    file: str,
    variables: tuple[str, ...],
    env_names: tuple[str, ...],
    backend: str,
    targets: tuple[str, ...],
    replace: bool,
    prune: bool,
    yes: bool,
    parallelism: int,
    report_path: str | None,
    junit_path: str | None,
    dry_run: bool,
    poll_interval: str | None,
    idle_grace: str | None,
    lost_contact_after: str | None,
) -> None:
    """Make the deployment hold exactly the tasks FILE describes, then wait and report.

    FILE is a batch manifest, or a plan saved by `tasks plan --out` (refused when the
    deployment changed since). Exit codes: 0 done, 4 some tasks failed, 5 a wait timed out,
    1 error or lost contact, 3 invalid input, 130 interrupted (143 SIGTERM, 129 SIGHUP).
    """
    from runner.batch import check_saved
    from runner.execute import ExecuteSettings
    from runner.render.plan import render_plan

    check_writable(report_path, "--report")
    check_writable(junit_path, "--junit")
    settings = ExecuteSettings(
        parallelism=parallelism,
        poll_interval=_duration(poll_interval, "--poll-interval"),
        idle_grace=_duration(idle_grace, "--idle-grace"),
        lost_contact_after=_duration(lost_contact_after, "--lost-contact-after"),
    )
    prepared: Prepared | None = None
    try:
        try:
            prepared = prepare(
                ctx, source(file, variables, env_names, backend), targets, replace, prune
            )
            check_saved(prepared, file)
        except TasksError as error:
            # CI reads the reports: a run that never started still says why.
            report_failure(error, file, report_path=report_path, junit_path=junit_path)
            raise
        click.echo(plan_header(prepared))
        click.echo("")
        click.echo(render_plan(prepared.plan))
        if dry_run:
            click.echo("Dry run: preflight passed; nothing was changed.")
            return
        if prepared.plan.has_changes:
            confirm("Apply these changes?", yes=yes)
    except KeyboardInterrupt as stop:  # Ctrl-C, SIGTERM or SIGHUP before the plan runs
        ctx.exit(
            report_interrupted(stop, file, prepared, report_path=report_path, junit_path=junit_path)
        )
    code = run_plan(prepared, settings, report_path=report_path, junit_path=junit_path)
    ctx.exit(code)


def run_plan(
    prepared: Prepared,
    settings: ExecuteSettings,
    *,
    report_path: str | None,
    junit_path: str | None,
    command_name: str = "apply",
) -> int:
    """Execute, print progress and results, write the reports; return the exit code."""
    from runner import batch
    from runner.render.safe_text import safe_text
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
    code = batch.exit_code(report)
    stopped_by = signals.received()
    if report.interrupted and stopped_by is not None:
        code = 128 + stopped_by  # SIGTERM 143, SIGHUP 129, as the shell would report
    finish(report, code, report_path=report_path, junit_path=junit_path, command_name=command_name)
    if report.interrupted:
        click.echo("Interrupted. Re-run to continue: nothing is created or sent twice.", err=True)
    if report.stopped is not None:
        raise report.stopped  # rendered once at the edge, after the table and the reports
    return code


def report_interrupted(
    stop: KeyboardInterrupt,
    file: str,
    prepared: Prepared | None,
    *,
    report_path: str | None,
    junit_path: str | None,
    command_name: str = "apply",
) -> int:
    """Print and write the reports of a run stopped before its plan ran; its exit code.

    With a plan, its tasks are listed as not started; without one, the reports say so.
    """
    from runner import batch

    how, code = signals.describe(stop)
    name = prepared.batch.name if prepared is not None else Path(file).name
    report = batch.interrupted_before_run(name, prepared.plan if prepared else None, how)
    try:
        finish(
            report,
            code,
            report_path=report_path,
            junit_path=junit_path,
            command_name=command_name,
            quiet=prepared is None,
        )
    except TasksError as unwritable:
        click.echo(f"warning: {unwritable.message}", err=True)
    click.echo(f"Interrupted by {how}: nothing was changed.", err=True)
    return code


def report_failure(
    error: TasksError,
    file: str,
    *,
    report_path: str | None,
    junit_path: str | None,
    command_name: str = "apply",
) -> None:
    """Write the reports of a run that failed before any task was touched."""
    from runner.execute import ApplyReport

    if not (report_path or junit_path or os.environ.get("GITHUB_STEP_SUMMARY")):
        return
    report = ApplyReport(batch=Path(file).name, results=(), stopped=error)
    try:
        finish(
            report,
            error.exit_code,
            report_path=report_path,
            junit_path=junit_path,
            command_name=command_name,
            quiet=True,
        )
    except TasksError as unwritable:  # the first error is the one to report
        click.echo(f"warning: {unwritable.message}", err=True)


def finish(
    report: ApplyReport,
    code: int,
    *,
    report_path: str | None,
    junit_path: str | None,
    command_name: str = "apply",
    quiet: bool = False,
) -> None:
    """The result table and summary (unless `quiet`), then the JSON, JUnit and step-summary
    files."""
    from runner.report import json_report
    from runner.report.junit import junit_xml
    from runner.report.markdown import markdown_summary
    from runner.report.table import pull_request_lines, result_table

    if not quiet:
        click.echo("")
        if report.results:
            click.echo(result_table(report))
        click.echo(report.summary(command_name))
        for line in pull_request_lines(report):
            click.echo(line)
    if report_path:
        document = json_report.report_document(report, code, command_name=command_name)
        _write(report_path, json_report.dumps(document))
    if junit_path:
        _write(junit_path, junit_xml(report, command_name=command_name))
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        try:
            with open(summary_path, "a", encoding="utf-8") as handle:
                handle.write(markdown_summary(report, command_name=command_name))
        except OSError as error:
            click.echo(f"warning: cannot write $GITHUB_STEP_SUMMARY: {error}", err=True)


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise TasksError(f"{path}: cannot write: {error.strerror or error}") from error


def _duration(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = parse_go_duration(text, flag=flag)
    if seconds <= 0:
        raise InvalidInputError(f"{flag} must be positive, got {text!r}")
    return seconds
