"""`tasks apply FILE|PLANFILE`: converge the deployment to a batch, wait, and report."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runner import defaults
from runner.cli.batch_run import plan_header, prepare, run_batch
from runner.cli.options import (
    BatchFlags,
    RunFlags,
    check_writable,
    confirm,
    parse_go_duration,
    plan_flags,
    run_options,
)
from runner.durations import format_seconds
from runner.errors import InvalidInputError

if TYPE_CHECKING:
    from runner.batch import Prepared
    from runner.execute import ExecuteSettings

F = TypeVar("F", bound=Callable[..., Any])


def _duration_option(flag: str, help_text: str) -> Callable[[F], F]:
    """A duration flag that overrides the manifest's (checked by `_duration`)."""
    return click.option(flag, metavar="DURATION", help=help_text)


@click.command("apply")
@click.argument("file", metavar="FILE|PLANFILE")
@plan_flags
@run_options
@click.option("--dry-run", is_flag=True, help="Observe and preflight only; change nothing.")
@_duration_option(
    "--poll-interval",
    "How often to observe the tasks while waiting (overrides the manifest), e.g. 2s.",
)
@_duration_option(
    "--idle-grace", "How long idle must hold before it counts (overrides the manifest), e.g. 5s."
)
@_duration_option(
    "--lost-contact-after",
    "Stop (exit 1, reports written) once polls have failed this long in a row "
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
    flags: BatchFlags,
    run: RunFlags,
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

    check_writable(run.report_path, "--report")
    check_writable(run.junit_path, "--junit")
    settings = _settings(
        run.parallelism, poll_interval, idle_grace, lost_contact_after, max_running
    )

    def prepared() -> Prepared:
        checked = prepare(ctx, file, flags)
        check_saved(checked, file)
        return checked

    def show(prepared: Prepared) -> bool:
        click.echo(plan_header(prepared))
        click.echo("")
        click.echo(render_plan(prepared.plan))
        if dry_run:
            click.echo("Dry run: preflight passed; nothing was changed.")
            return False
        if prepared.plan.has_changes:
            confirm("Apply these changes?", yes=run.yes)
        return True

    run_batch(ctx, file, ReportFiles(run.report_path, run.junit_path), settings, prepared, show)


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
