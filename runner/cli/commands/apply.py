"""`tasks apply FILE|PLANFILE`: converge the deployment to a batch, wait, and report."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runner.cli.commands.plan import (
    manifest_options,
    plan_header,
    plan_options,
    prepare,
)
from runner.cli.options import check_writable, confirm, parse_go_duration
from runner.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL_FAILURE,
    EXIT_WAIT_TIMEOUT,
    InvalidInputError,
    TasksError,
)

if TYPE_CHECKING:
    from runner.coder.client import CoderClient
    from runner.execute import ApplyReport, Event, ExecuteSettings
    from runner.observe import Observation
    from runner.plan import Plan
    from runner.preflight import ResolvedTask

F = TypeVar("F", bound=Callable[..., Any])


class PlanChangedError(TasksError):
    """A saved plan no longer matches the deployment."""


def run_options(func: F) -> F:
    """--yes, --parallelism, --report, --junit (shared by apply and destroy)."""
    decorators = [
        click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation."),
        click.option(
            "--parallelism",
            type=click.IntRange(1, 64),
            default=4,
            show_default=True,
            help="Requests in flight at once (4 stays under Coder's 512 requests/minute).",
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
@click.pass_context
def command(
    ctx: click.Context,
    file: str,
    variables: tuple[str, ...],
    env_names: tuple[str, ...],
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
) -> None:
    """Make the deployment hold exactly the tasks FILE describes, then wait and report.

    FILE is a batch manifest, or a plan saved by `tasks plan --out` (refused when the
    deployment changed since). Exit codes: 0 done, 4 some tasks failed, 5 a wait timed out,
    1 error, 3 invalid input, 130 interrupted.
    """
    from runner.execute import ExecuteSettings
    from runner.render.plan import render_plan

    check_writable(report_path, "--report")
    check_writable(junit_path, "--junit")
    settings = ExecuteSettings(
        parallelism=parallelism,
        poll_interval=_duration(poll_interval, "--poll-interval"),
        idle_grace=_duration(idle_grace, "--idle-grace"),
    )
    prepared = prepare(
        ctx,
        file,
        variables=variables,
        env_names=env_names,
        options=plan_options(targets, replace, prune),
        options_given=bool(targets or replace or prune),
    )
    plan = prepared.plan
    saved = prepared.saved
    if saved is not None:
        if saved.server_url and saved.server_url != prepared.observation.dashboard_url:
            raise PlanChangedError(
                f"{file} was made for {saved.server_url}, not "
                f"{prepared.observation.dashboard_url}; nothing was applied"
            )
        if saved.fingerprint != plan.fingerprint:
            raise PlanChangedError(
                f"the deployment changed since {file} was made; nothing was applied",
                details=["make a new plan with `tasks plan ... --out` and review it"],
            )
    click.echo(plan_header(prepared))
    click.echo("")
    click.echo(render_plan(plan))
    if dry_run:
        click.echo("Dry run: preflight passed; nothing was changed.")
        return
    if plan.has_changes:
        confirm("Apply these changes?", yes=yes)
    code = run_plan(
        prepared.client,
        plan,
        prepared.observation,
        prepared.resolved,
        settings,
        report_path=report_path,
        junit_path=junit_path,
    )
    ctx.exit(code)


def run_plan(
    client: CoderClient,
    plan: Plan,
    observation: Observation,
    resolved: dict[str, ResolvedTask],
    settings: ExecuteSettings,
    *,
    report_path: str | None,
    junit_path: str | None,
    command_name: str = "apply",
) -> int:
    """Execute, print progress and results, write the reports; return the exit code."""
    from runner.execute import execute
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

    report = execute(client, plan, observation, resolved, settings, on_event=on_event)
    progress.close()
    code = exit_code(report)
    finish(report, code, report_path=report_path, junit_path=junit_path, command_name=command_name)
    if report.interrupted:
        click.echo("Interrupted. Re-run to continue: nothing is created or sent twice.", err=True)
    return code


def exit_code(report: ApplyReport) -> int:
    """0 all converged; 4 some failed; 5 a wait timed out (none failed); 1 everything failed.

    An interrupted run is 130 whatever the tasks did, in the reports as well as the process.
    """
    from runner.execute import Outcome

    if report.interrupted:
        return EXIT_INTERRUPTED
    outcomes = [r.outcome for r in report.results]
    failed = sum(1 for o in outcomes if o is not None and o.is_failure)
    timed_out = outcomes.count(Outcome.TIMEOUT)
    if failed and failed == len(outcomes):
        return EXIT_ERROR
    if failed:
        return EXIT_PARTIAL_FAILURE
    if timed_out:
        return EXIT_WAIT_TIMEOUT
    return EXIT_OK


def finish(
    report: ApplyReport,
    code: int,
    *,
    report_path: str | None,
    junit_path: str | None,
    command_name: str = "apply",
) -> None:
    """The result table and summary, then the JSON, JUnit and step-summary files."""
    from runner.report import json_report
    from runner.report.junit import junit_xml
    from runner.report.markdown import markdown_summary
    from runner.report.table import result_table

    click.echo("")
    if report.results:
        click.echo(result_table(report))
    click.echo(report.summary(command_name))
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
