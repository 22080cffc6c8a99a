"""What templates may read besides the manifest: `--var key=value` and `--env NAME`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from runner.errors import InvalidInputError
from runner.secrets import TOKEN_REFUSED, holds_token

#: The variable Coder's CLI (and `tasks`) reads the session token from.
TOKEN_VARIABLE = "CODER_SESSION_TOKEN"


def parse_var_options(pairs: Sequence[str]) -> dict[str, str]:
    """`["repo=api", "n=3"]` to `{"repo": "api", "n": "3"}`; later pairs win."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInputError(f'--var "{pair}": expected key=value, e.g. --var repo=api')
        if not key.isidentifier():
            raise InvalidInputError(
                f'--var "{pair}": "{key}" is not a variable name; use letters, digits and '
                "underscores, not starting with a digit"
            )
        values[key] = value
    return values


def environment_values(
    env_names: Sequence[str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The named environment variables, the only ones templates can read as `env.NAME`."""
    source = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for name in env_names:
        if not name or "=" in name:
            raise InvalidInputError(f'--env "{name}": expected the name of an environment variable')
        if name not in source:
            raise InvalidInputError(f"--env {name}: the environment variable {name} is not set")
        value = source[name]
        if name == TOKEN_VARIABLE or holds_token(value, source.get(TOKEN_VARIABLE)):
            raise InvalidInputError(f"--env {name}: the value {TOKEN_REFUSED}")
        values[name] = value
    return values
