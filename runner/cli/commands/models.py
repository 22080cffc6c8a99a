"""`tasks models`: the chat model configs (Coder Agents) a batch or chat may name."""

from __future__ import annotations

import click

from runner.cli.context import global_options
from runner.cli.error_context import error_context
from runner.cli.options import output_option
from runner.render.json_output import go_json


@click.command("models")
@click.option(
    "--org",
    "organization",
    metavar="ORGANIZATION",
    help="The organization whose models to list (name or ID; default: your default one). "
    "Coder v2.37+ scopes models to organizations.",
)
@output_option()
@click.pass_context
def command(ctx: click.Context, organization: str | None, output: str) -> None:
    """List the models chats may run on: ID, name, display name, provider, default.

    `model:` in a manifest and `--model` take a model's name, display name or ID.
    """
    from runner.render.chat_tables import model_document, model_table

    client = global_options(ctx).chats_client()
    with error_context("list chat models"):
        configs = client.model_configs(organization)
    if output == "json":
        click.echo(go_json([model_document(c) for c in configs]))
        return
    if not configs:
        click.echo("No chat models configured.", err=True)
        return
    click.echo(model_table(configs))
