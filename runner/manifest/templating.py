"""Rendering manifest strings as Jinja templates, sandboxed.

A manifest may come from a pull request, so templates must not run code, read files or see the
environment: the sandbox blocks attribute tricks, there is no loader (no include/import), the
only names are `vars`, `matrix` and `env` (no globals), and `env` holds only the variables the
command line names with `--env`. Undefined names are errors (StrictUndefined).

Most manifest strings have no template syntax and are returned as they are. Strings made only of
text and `{{ a.b.c }}` lookups are substituted directly, with exactly Jinja's result, because
compiling thousands of distinct templates would dominate the load time. Everything else is
compiled by Jinja, once per distinct string.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from runner.manifest.wording import suggestion

#: Templates may not render more than this many characters.
MAX_RENDERED_CHARS = 1_000_000
_MAX_REPEAT = 100_000

_SIMPLE_LOOKUP = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_NOT_SIMPLE = re.compile(r"\{[%#]|\r")


class TemplateProblem(Exception):
    """A template could not be compiled or rendered; `line` is 1-based within the template."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class Namespace(dict[str, Any]):
    """`vars`, `matrix` or `env`: a plain mapping that knows its name, for error messages."""

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        # Underscore: the sandbox refuses it, so it can never shadow a key.
        self._label = label


def is_template(text: str) -> bool:
    """True when `text` has Jinja syntax and must be rendered."""
    return "{{" in text or "{%" in text or "{#" in text


class _Undefined(StrictUndefined):
    """StrictUndefined whose message names the namespace and what it does have."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        name = self._undefined_name
        owner = self._undefined_obj
        if self._undefined_hint:  # e.g. the sandbox's "access to attribute ... is unsafe"
            hint: str = self._undefined_hint
            return hint
        if isinstance(owner, Namespace) and isinstance(name, str):
            return _missing_key_message(owner, name)
        if owner is missing:
            return f"{name} is undefined; templates can use vars, matrix and env"
        message: str = super()._undefined_message
        return message


def _missing_key_message(namespace: Namespace, name: str) -> str:
    label = namespace._label
    if label == "env":
        return (
            f"env.{name} is not available: templates read only the environment variables the "
            f"command line names (add --env {name})"
        )
    if not namespace:
        empty = "this task has no matrix" if label == "matrix" else "there are no vars"
        return f"{label}.{name} is undefined ({empty})"
    hint = suggestion(name, namespace)
    if hint:
        return f"{label}.{name} is undefined{hint}"
    return f"{label}.{name} is undefined ({label} has: {', '.join(namespace)})"


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, plus limits on repetition so a template cannot ask for gigabytes."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        for sequence, count in ((left, right), (right, left)):
            repeats = isinstance(sequence, (str, list, tuple)) and isinstance(count, int)
            if repeats and len(sequence) * count > _MAX_REPEAT:
                raise SecurityError("repetition too large")
        return operator.mul(left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # `vars.items` means the variable `items`, not the dict method of that name.
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


class Renderer:
    """Renders manifest strings; compiles each distinct template once."""

    def __init__(self) -> None:
        self._environment: _Sandbox | None = None
        self._compiled: dict[str, Template] = {}
        self._simple: dict[str, list[str | tuple[str, ...]] | None] = {}

    def render(self, text: str, context: Mapping[str, Namespace]) -> str:
        """`text` rendered with `context`; TemplateProblem on any error."""
        if not is_template(text):
            return text
        if text in self._simple:
            parts = self._simple[text]
        else:
            parts = self._simple[text] = _split_simple(text)
        if parts is not None:
            rendered = _substitute(parts, context)
            if rendered is not None:
                return rendered
        return self._render_with_jinja(text, context)

    def _render_with_jinja(self, text: str, context: Mapping[str, Namespace]) -> str:
        template = self._compiled.get(text)
        if template is None:
            try:
                template = self._env().from_string(text)
            except TemplateSyntaxError as error:
                raise TemplateProblem(
                    f"template syntax error: {error.message}", error.lineno
                ) from None
            except (TemplateError, RecursionError, MemoryError) as error:
                raise TemplateProblem(f"template error: {error}") from None
            self._compiled[text] = template
        chunks: list[str] = []
        size = 0
        try:
            for chunk in template.generate(dict(context)):
                size += len(chunk)
                if size > MAX_RENDERED_CHARS:
                    raise TemplateProblem(
                        f"the template renders to more than {MAX_RENDERED_CHARS:,} characters"
                    )
                chunks.append(chunk)
        except TemplateProblem:
            raise
        except Exception as error:  # a template may raise anything; it must become a message
            raise TemplateProblem(_describe(error), _template_line(error)) from None
        return "".join(chunks)

    def _env(self) -> _Sandbox:
        if self._environment is None:
            environment = _Sandbox(
                undefined=_Undefined,
                autoescape=False,
                keep_trailing_newline=True,  # never change a prompt's text
                auto_reload=False,
            )
            environment.globals.clear()  # only vars, matrix and env
            self._environment = environment
        return self._environment


def _split_simple(text: str) -> list[str | tuple[str, ...]] | None:
    """Text and `{{ a.b }}` lookups, or None when the string needs the real Jinja."""
    if _NOT_SIMPLE.search(text):
        return None
    parts: list[str | tuple[str, ...]] = []
    position = 0
    for match in _SIMPLE_LOOKUP.finditer(text):
        parts.append(text[position : match.start()])
        parts.append(tuple(match.group(1).split(".")))
        position = match.end()
    parts.append(text[position:])
    literals = [part for part in parts if isinstance(part, str)]
    # Jinja takes the leftmost `{{`: a `{` just before a lookup would start it one earlier.
    if any("{{" in part for part in literals) or any(part.endswith("{") for part in literals[:-1]):
        return None
    return parts


def _substitute(parts: list[str | tuple[str, ...]], context: Mapping[str, Namespace]) -> str | None:
    """The rendered text, or None when a lookup is not a plain key (Jinja decides then)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value: Any = context.get(part[0])
        if value is None:
            return None
        for key in part[1:]:
            # Keys of mappings only; anything else is Jinja's business.
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        out.append(str(value))
    return "".join(out)


def _describe(error: Exception) -> str:
    if isinstance(error, SecurityError):
        return f"not allowed in a template: {error}"
    if isinstance(error, UndefinedError) and error.message:
        return error.message
    if isinstance(error, TemplateError) and error.message:
        return f"template error: {error.message}"
    if isinstance(error, TypeError) and "no loader" in str(error):
        return "not allowed in a template: include, import and extends (templates read no files)"
    if isinstance(error, RecursionError):
        return "template error: recursion too deep"
    return f"template error: {type(error).__name__}: {error}"


def _template_line(error: BaseException) -> int | None:
    """The template line where rendering failed, from the traceback Jinja rewrites."""
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
