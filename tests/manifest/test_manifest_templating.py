"""Templates: sandboxed, strict, only vars/matrix/env, fast for plain lookups, compiled once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runner.manifest.jinja import JinjaEngine
from runner.manifest.templating import Namespace, Renderer, TemplateProblem


def context(**values: dict[str, object]) -> dict[str, Namespace]:
    return {label: Namespace(label, values.get(label, {})) for label in ("vars", "matrix", "env")}


def test_plain_strings_are_returned_untouched() -> None:
    renderer = Renderer()
    for text in ("plain", "a { b } c", "}}", "{ {x} }", "trailing\n"):
        assert renderer.render(text, context()) == text


def test_lookups_filters_and_statements() -> None:
    renderer = Renderer()
    ctx = context(vars={"repo": "api", "n": 3, "items": "mine"}, matrix={"svc": "users"})
    assert renderer.render("{{ vars.repo }}/{{ matrix.svc }}", ctx) == "api/users"
    assert renderer.render("{{ vars.repo | upper }}", ctx) == "API"
    assert renderer.render("{% if vars.n > 2 %}big{% endif %}", ctx) == "big"
    assert renderer.render("{{ vars['repo'] }}", ctx) == "api"
    # A variable named like a dict method is the variable.
    assert renderer.render("{{ vars.items }}", ctx) == "mine"
    # Jinja would drop a template's final newline; a prompt keeps its text.
    assert renderer.render("{{ vars.repo }}\n", ctx) == "api\n"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ vars.rep }}", 'vars.rep is undefined (did you mean "repo"?)'),
        ("{{ vars.zzz }}", "vars.zzz is undefined (vars has: repo)"),
        ("{{ matrix.svc }}", "matrix.svc is undefined (this task has no matrix)"),
        ("{{ nope }}", "nope is undefined; templates can use vars, matrix and env"),
        ("{{ range(3) }}", "range is undefined; templates can use vars, matrix and env"),
        ("{{ lipsum() }}", "lipsum is undefined; templates can use vars, matrix and env"),
        (
            "{{ env.HOME }}",
            "env.HOME is not available: templates read only the environment variables the "
            "command line names (add --env HOME)",
        ),
        (
            "{{ vars.__class__ }}",
            "not allowed in a template: access to attribute '__class__' of 'Namespace' object "
            "is unsafe.",
        ),
        ("{{ 'a' * 1000000 }}", "not allowed in a template: repetition too large"),
        ("{{ 2 ** 100000 }}", "not allowed in a template: exponent too large"),
        (
            "{% import 'x' as y %}",
            "not allowed in a template: include, import and extends (templates read no files)",
        ),
        ("{% if %}", "template syntax error: Expected an expression, got 'end of statement block'"),
    ],
)
def test_errors_say_what_is_wrong(template: str, message: str) -> None:
    with pytest.raises(TemplateProblem) as caught:
        Renderer().render(template, context(vars={"repo": "api"}))
    assert caught.value.message == message


def test_errors_know_their_template_line() -> None:
    with pytest.raises(TemplateProblem) as caught:
        Renderer().render("one\ntwo\n{{ vars.x }}\n", context())
    assert caught.value.line == 3


def test_identical_templates_compile_once() -> None:
    renderer = Renderer()
    template = "{% for s in vars.list %}{{ s }}{% endfor %}"
    for values in (["a"], ["b", "c"], ["d"]):
        renderer.render(template, context(vars={"list": values}))
    assert renderer._jinja is not None and len(renderer._jinja._compiled) == 1


_names = st.sampled_from(["repo", "svc", "n", "items", "x_1", "missing"])
_values = st.one_of(
    st.text(max_size=5),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
_pieces = st.one_of(
    st.text(alphabet="ab {}%#\n-.", max_size=6),
    st.builds(
        lambda ns, name, pad: f"{{{{{pad}{ns}.{name}{pad}}}}}",
        st.sampled_from(["vars", "matrix", "env", "other"]),
        _names,
        st.sampled_from(["", " ", "  "]),
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(_pieces, max_size=6),
    variables=st.dictionaries(_names, _values, max_size=4),
    matrix=st.dictionaries(_names, _values, max_size=2),
)
def test_the_fast_path_renders_exactly_what_jinja_renders(
    pieces: list[str], variables: dict[str, object], matrix: dict[str, object]
) -> None:
    text = "".join(pieces)
    ctx = context(vars=variables, matrix=matrix)
    assert outcome(Renderer().render, text, ctx) == outcome(JinjaEngine().render, text, ctx)


def outcome(
    render: Callable[[str, dict[str, Namespace]], str], text: str, ctx: dict[str, Namespace]
) -> str:
    try:
        return "ok: " + render(text, ctx)
    except TemplateProblem as problem:
        return f"error: {problem.message}"


def test_the_fast_path_is_taken_for_plain_lookups() -> None:
    renderer = Renderer()
    renderer.render("a {{ vars.x }} b {{matrix.y}}", context(vars={"x": 1}, matrix={"y": 2}))
    assert renderer._jinja is None  # Jinja not even built
