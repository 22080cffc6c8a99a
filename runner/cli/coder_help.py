"""Click commands whose `--help` reads exactly like Coder's (`coder task <cmd> --help`).

Coder renders help with its `serpent` library: a USAGE line with `[flags]`, the short text, the
aliases, examples as `- Description:` bullets with an indented `$ command`, and OPTIONS sorted by
name as `-c, --column [a|b] (default: x)` followed by the description indented ten spaces. Text
is wrapped at 80 columns by go-wordwrap's rules. Parse errors become one-line InvalidInputErrors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from runner import __version__
from runner.errors import InvalidInputError
from runner.render.wordwrap import wrap_string

_WIDTH = 80

F = TypeVar("F", bound=Callable[..., Any])

# Text is wrapped as if the command were Coder's `coder task`, then renamed, so that line breaks
# fall exactly where Coder's help has them.
_CODER_ROOT = "coder task"
_OUR_ROOT = "tasks"


@dataclass(frozen=True)
class Example:
    """One example in a command's help: what it does and the command line (rooted at `tasks`)."""

    description: str
    command: str


class CoderOption(click.Option):
    """A click option that also carries what Coder's help shows for it.

    `type_help` is the value type (`string`, `bool`, `table|json`, `[a|b]`), `env_help` the
    environment variable, `default_help` the default as Coder prints it, and `help_name` the
    option's name for sorting (Coder sorts options by name, not by flag).
    """

    def __init__(
        self,
        param_decls: Sequence[str],
        *,
        type_help: str,
        description: str = "",
        env_help: str | None = None,
        default_help: str | None = None,
        help_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if env_help is not None:
            kwargs.setdefault("envvar", env_help)
        super().__init__(param_decls, help=description, **kwargs)
        self.type_help = type_help
        self.description = description
        self.env_help = env_help
        self.default_help = default_help
        self.help_name = help_name or (self.name or "")

    def coder_flag_line(self) -> str:
        """`  -c, --column [a|b], $ENV (default: x)` as Coder prints the option."""
        longs = [o for o in self.opts if o.startswith("--")]
        shorts = [o for o in self.opts if not o.startswith("--")]
        line = f"  {shorts[0]}, " if shorts else "      "
        line += f"{longs[0]} {self.type_help}"
        if self.env_help:
            line += f", ${self.env_help}"
        if self.default_help:
            line += f" (default: {self.default_help})"
        return line


def coder_option(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """`click.option` with CoderOption's extra help fields."""
    decorator: Callable[[F], F] = click.option(*param_decls, cls=CoderOption, **attrs)
    return decorator


def stdin_option(description: str) -> Callable[[F], F]:
    """`--stdin` as Coder's `task create` and `task send` have it (each words its help)."""
    return coder_option(
        "--stdin",
        "use_stdin",
        is_flag=True,
        type_help="bool",
        help_name="stdin",
        description=description,
    )


def _indent(body: str, spaces: int) -> str:
    """serpent's `indent`: wrap to the width left after the indent, then indent every line."""
    wrapped = wrap_string(body, _WIDTH - spaces)
    lines = wrapped.split("\n")
    if lines and lines[-1] == "":  # a trailing newline does not make an extra line
        lines.pop()
    return "".join(" " * spaces + line + "\n" for line in lines)


def format_examples(examples: Sequence[Example]) -> str:
    """Coder's FormatExamples: `  - Description:`, a blank line, then `     $ command`."""
    blocks = [f"  - {e.description}:\n\n     $ {e.command}" for e in examples]
    return "\n\n".join(blocks)


class CoderCommand(click.Command):
    """A click command with Coder's help layout and one-line usage errors."""

    def __init__(
        self,
        *args: Any,
        usage_args: str = "",
        short: str = "",
        description: str = "",
        examples: Sequence[Example] = (),
        aliases: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("help", short)
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(*args, **kwargs)
        self.usage_args = usage_args
        self.short = short
        self.description = description
        self.examples = tuple(examples)
        self.aliases = tuple(aliases)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise InvalidInputError(f"tasks {self.name}: {error.format_message()}") from None

    def get_help(self, ctx: click.Context) -> str:
        return self.coder_help().rstrip("\n")

    def coder_help(self) -> str:
        """The full help text, newline-terminated, as `coder task <name> --help` prints it."""
        usage = f"{_CODER_ROOT} {self.name} [flags]"
        usage += f" {self.usage_args}" if self.usage_args else ""
        blocks = [f"tasks v{__version__}", "USAGE:\n" + _indent(usage, 2).rstrip("\n")]
        if self.short:
            blocks.append(wrap_string(_indent(self.short, 2), _WIDTH).rstrip("\n"))
        if self.aliases:
            blocks.append("  Aliases: " + ", ".join(self.aliases))
        long_text = self.description
        if self.examples:
            examples = format_examples(self.examples).replace(
                f"$ {_OUR_ROOT} ", f"$ {_CODER_ROOT} "
            )
            examples = examples.replace(f"| {_OUR_ROOT} ", f"| {_CODER_ROOT} ")
            long_text = f"{long_text}\n{examples}" if long_text else examples
        if long_text:
            blocks.append(_indent(long_text, 2).rstrip("\n"))
        text = "\n\n".join(blocks) + "\n\n" + self._options_help()
        text = text.replace(_CODER_ROOT, _OUR_ROOT)
        return text + "\n———\nRun `tasks --help` for a list of global options.\n"

    def _options_help(self) -> str:
        options = sorted(
            (p for p in self.params if isinstance(p, CoderOption) and not p.hidden),
            key=lambda p: p.help_name,
        )
        if not options:
            return ""
        text = "OPTIONS:"
        for option in options:
            text += "\n" + option.coder_flag_line()
            if option.description:
                text += "\n" + _indent(option.description, 10)
        return text
