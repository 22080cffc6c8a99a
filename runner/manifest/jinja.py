"""The sandboxed Jinja engine behind `templating`, for strings its direct substitution cannot
render. A module of its own so that jinja2 (a third of a small manifest's start-up) is imported
only when a manifest has such a string.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from runner.manifest.templating import MAX_RENDERED_CHARS, Namespace, TemplateProblem
from runner.manifest.wording import suggestion

_MAX_REPEAT = 100_000


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


class JinjaEngine:
    """Compiles each distinct template once, in the sandbox, and renders it within limits."""

    def __init__(self) -> None:
        self._environment = _Sandbox(
            undefined=_Undefined,
            autoescape=False,
            keep_trailing_newline=True,  # never change a prompt's text
            auto_reload=False,
        )
        self._environment.globals.clear()  # only vars, matrix and env
        self._compiled: dict[str, Template] = {}

    def render(self, text: str, context: Mapping[str, Namespace]) -> str:
        """`text` rendered with `context`; TemplateProblem on any error."""
        template = self._compiled.get(text)
        if template is None:
            try:
                template = self._environment.from_string(text)
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
