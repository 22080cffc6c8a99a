"""`tasks schema`: print the batch manifest JSON Schema shipped with this installation."""

from __future__ import annotations

import click


@click.command("schema")
def command() -> None:
    """Print the JSON Schema (2020-12) of batch manifests, for editors and other tools."""
    from runner.manifest.schema import schema_text

    click.echo(schema_text(), nl=False)
