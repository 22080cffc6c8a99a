"""`tasks render FILE`: print the expanded batch, each task with its source line and matrix."""

from __future__ import annotations

import click

from runner.cli.options import format_option, manifest_input_options


@click.command("render")
@click.argument("file", type=click.Path(dir_okay=True))
@format_option(("yaml", "json"), "Output format.")
@manifest_input_options
def command(file: str, output: str, variables: tuple[str, ...], env_names: tuple[str, ...]) -> None:
    """Print the batch as `apply` would see it: defaults applied, matrices expanded, templates
    rendered, and each task's name on the deployment (with the batch marker)."""
    from runner.manifest import load_batch
    from runner.manifest.document import to_json, to_yaml
    from runner.manifest.variables import parse_var_options

    batch = load_batch(file, variables=parse_var_options(variables), env_names=env_names)
    click.echo(to_json(batch) if output == "json" else to_yaml(batch).rstrip("\n"))
