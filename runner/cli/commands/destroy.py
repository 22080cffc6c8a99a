"""`tasks destroy FILE`: delete every task the batch owns, whoever owns it."""

from __future__ import annotations

import click

from runner.cli.commands.apply import run_options, run_plan
from runner.cli.commands.plan import load_input
from runner.cli.context import global_options
from runner.cli.manifest_options import manifest_input_options
from runner.cli.options import confirm
from runner.render.safe_text import safe_text


@click.command("destroy")
@click.argument("file", metavar="FILE|PLANFILE")
@manifest_input_options
@run_options
@click.pass_context
def command(
    ctx: click.Context,
    file: str,
    variables: tuple[str, ...],
    env_names: tuple[str, ...],
    yes: bool,
    parallelism: int,
    report_path: str | None,
    junit_path: str | None,
) -> None:
    """Delete every task the batch in FILE owns (its marked tasks), asking first unless --yes.

    Tasks made by hand, and tasks of other batches, are never touched.
    """
    from runner.execute import ExecuteSettings
    from runner.manifest.model import Batch
    from runner.observe import observe
    from runner.plan import PlanOptions, make_plan
    from runner.render.plan import render_plan

    batch, _ = load_input(file, variables, env_names)
    client = global_options(ctx).client()
    # Every task the token can see: an owner dropped from the manifest may still hold some.
    empty = Batch(batch.name, (), batch.source)
    observation = observe(client, empty, all_visible=True, read_logs=False)
    plan = make_plan(empty, observation, PlanOptions(prune=True))
    click.echo(
        safe_text(
            f"Batch {batch.name!r} against Coder {observation.server_version} at "
            f"{observation.dashboard_url}:"
        )
    )
    click.echo("")
    click.echo(render_plan(plan, destroying=True))
    if plan.has_changes:
        confirm(f"Delete these {plan.to_delete} task(s)?", yes=yes)
    code = run_plan(
        client,
        plan,
        observation,
        {},
        ExecuteSettings(parallelism=parallelism),
        report_path=report_path,
        junit_path=junit_path,
        command_name="destroy",
    )
    ctx.exit(code)
