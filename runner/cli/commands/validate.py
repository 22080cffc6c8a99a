"""`tasks validate FILE...`: check manifests and report every problem of every file."""

from __future__ import annotations

import click

from runner.cli.options import manifest_input_options
from runner.errors import InvalidInputError, ManifestError


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@manifest_input_options
def command(files: tuple[str, ...], variables: tuple[str, ...], env_names: tuple[str, ...]) -> None:
    """Check batch manifests: schema, templates, matrices and Coder's naming rules.

    Prints `FILE: ok (N tasks)` for each good file and every located problem of the others;
    exits 3 when any file has a problem. Nothing is sent to a deployment.
    """
    from runner.manifest import load_batch
    from runner.manifest.variables import parse_var_options
    from runner.preflight import require_templates

    values = parse_var_options(variables)
    bad_files = 0
    problems = 0
    for path in files:
        try:
            batch = load_batch(path, variables=values, env_names=env_names)
            if batch.backend == "tasks":  # else only the server decides whether Tasks runs it
                require_templates(batch.tasks)
        except ManifestError as error:
            bad_files += 1
            problems += len(error.errors)
            for located in error.errors:
                click.echo(str(located), err=True)
            continue
        count = len(batch.tasks)
        click.echo(f"{path}: ok ({count} task{'s' if count != 1 else ''})")
    if bad_files:
        noun = "problem" if problems == 1 else "problems"
        raise InvalidInputError(f"{problems} {noun} in {bad_files} of {len(files)} files")
