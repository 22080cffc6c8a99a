"""Property tests: no input, however broken, makes the loader raise anything but ManifestError."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.errors import ManifestError
from runner.manifest import Batch, load_batch

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_bytes(data: bytes) -> Batch | None:
    """Load `data` as a manifest; None when it was refused with a ManifestError."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.tasks.yaml"
        path.write_bytes(data)
        try:
            return load_batch(str(path), environ={})
        except ManifestError as error:
            assert error.errors, "a ManifestError always carries its errors"
            for located in error.errors:
                assert located.location.file == str(path)
                assert located.location.line >= 1 and located.location.column >= 1
                assert "\n" not in located.message
            return None


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    load_bytes(text.encode("utf-8", errors="surrogatepass"))


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    load_bytes(data)


_YAML_TOKENS = st.sampled_from(
    [
        "version: 1\n", "batch: b\n", "tasks:\n", "  - ", "name: a\n", "    prompt: p\n",
        "template: t\n", "defaults:\n", "  ", "matrix: {x: [1, 2]}\n", "&a ", "*a", "<<: *a\n",
        "[", "]", "{", "}", ",", ": ", "- ", "? ", "!!str ", "!!binary ", "!x ", "'", '"',
        "{{ vars.x }}", "{{ matrix.x }}", "{% if %}", "\t", "---\n", "...\n", "# c\n", "\n",
        "exclude: [{x: 1}]\n", "include: [{y: 2}]\n", "wait: idle\n", "timeout: 5m\n",
    ]
)  # fmt: skip


@SETTINGS
@given(st.lists(_YAML_TOKENS, max_size=40))
def test_arbitrary_yaml_ish_token_soup(tokens: list[str]) -> None:
    load_bytes("".join(tokens).encode())


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_task_keys = st.sampled_from(
    ["name", "prompt", "template", "follow_ups", "owner", "wait", "timeout", "matrix",
     "idle_grace", "on_drift", "preset", "organization", "template_version", "promt"]
)  # fmt: skip
_task = st.dictionaries(_task_keys, st.one_of(_json, st.text(max_size=30)), max_size=6)


@SETTINGS
@given(
    version=st.one_of(st.just(1), _scalars),
    batch=st.one_of(st.just("b"), st.text(max_size=40), _json),
    defaults=st.one_of(st.none(), _task),
    variables=st.one_of(st.none(), st.dictionaries(st.text(max_size=8), _json, max_size=3)),
    tasks=st.one_of(st.lists(_task, max_size=4), _json),
)
def test_arbitrary_yaml_documents_shaped_like_manifests(
    version: Any, batch: Any, defaults: Any, variables: Any, tasks: Any
) -> None:
    document: dict[str, Any] = {"version": version, "batch": batch, "tasks": tasks}
    if defaults is not None:
        document["defaults"] = defaults
    if variables is not None:
        document["vars"] = variables
    loaded = load_bytes(yaml.safe_dump(document, allow_unicode=True).encode())
    if loaded is not None:  # what loads is sound
        assert loaded.name == batch
        assert all(task.name and task.prompt.strip() for task in loaded.tasks)
        assert all(len(task.coder_name) <= 32 for task in loaded.tasks)
