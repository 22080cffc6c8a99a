"""`tasks apply FILE|PLANFILE`: converge the deployment to a batch, wait, and report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner import defaults
from runner.cli.batch_run import (
    plan_header,
    prepare,
    report_failure,
    report_interrupted,
    run_plan,
    source,
)
from runner.cli.options import check_writable, confirm, parse_go_duration, plan_flags, run_options
from runner.durations import format_seconds
from runner.errors import InvalidInputError, TasksError

if TYPE_CHECKING:
    from runner.batch import Prepared
    from runner.execute import ExecuteSettings


@click.command("apply")
@click.argument("file", metavar="FILE|PLANFILE")
@plan_flags
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
@click.option(
    "--max-running",
    type=click.IntRange(min=1),
    metavar="N",
    help="At most N of the batch's tasks work at once; the next starts when one ends "
    "(overrides the manifest's defaults.max_running).",
)
@click.pass_context
def command(
    ctx: click.Context,
    file: str,
    variables: tuple[str, ...],
    env_names: tuple[str, ...],
    backend: str,
    model: str | None,
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
    max_running: int | None,
) -> None:
    """Make the deployment hold exactly the tasks FILE describes, then wait and report.

    FILE is a batch manifest, or a plan saved by `tasks plan --out` (refused when the
    deployment changed since). Exit codes: 0 done, 4 some tasks failed, 5 a wait timed out,
    1 error or lost contact, 3 invalid input, 130 interrupted (143 SIGTERM, 129 SIGHUP).
    """
    from runner.batch import check_saved
    from runner.render.plan import render_plan
    from runner.report.finish import ReportFiles

    check_writable(report_path, "--report")
    check_writable(junit_path, "--junit")
    settings = _settings(parallelism, poll_interval, idle_grace, lost_contact_after, max_running)
    files = ReportFiles(report_path, junit_path)
    prepared: Prepared | None = None
    try:
        try:
            prepared = prepare(
                ctx, source(file, variables, env_names, backend, model), targets, replace, prune
            )
            check_saved(prepared, file)
        except TasksError as error:
            # CI reads the reports: a run that never started still says why.
            report_failure(error, file, files)
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
        ctx.exit(report_interrupted(stop, file, prepared, files))
    ctx.exit(run_plan(prepared, settings, files))


def _settings(
    parallelism: int,
    poll_interval: str | None,
    idle_grace: str | None,
    lost_contact: str | None,
    max_running: int | None,
) -> ExecuteSettings:
    """The run's settings from the command line (each duration checked, None: the manifest's)."""
    from runner.execute import ExecuteSettings

    return ExecuteSettings(
        parallelism=parallelism,
        poll_interval=_duration(poll_interval, "--poll-interval"),
        idle_grace=_duration(idle_grace, "--idle-grace"),
        lost_contact_after=_duration(lost_contact, "--lost-contact-after"),
        max_running=max_running,
    )


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
