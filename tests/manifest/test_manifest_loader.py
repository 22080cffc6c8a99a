"""What a sound manifest loads into: defaults, durations, origins, variables, environment."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from runner import ownership
from runner.errors import InvalidInputError, ManifestError
from runner.manifest import load_batch


def write(tmp_path: Path, text: str, name: str = "batch.tasks.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


FULL = """\
version: 1
batch: nightly
defaults:
  template: claude-code
  template_version: v2
  preset: Large
  organization: coder
  owner: alice
  wait: complete
  timeout: 1h30m
  idle_grace: 500ms
  poll_interval: 3s
  on_drift: replace
  follow_ups: [Run the tests.]
vars:
  repo: api
tasks:
  - name: auth
    prompt: |
      Add authentication to {{ vars.repo }}.
  - name: docs
    prompt: Write docs.
    owner: me
    wait: none
    timeout: 90
    follow_ups: []
    template: "{{ vars.repo }}-template"
"""


def test_defaults_apply_and_a_task_s_own_value_wins(tmp_path: Path) -> None:
    batch = load_batch(write(tmp_path, FULL))
    assert batch.name == "nightly"
    auth, docs = batch.tasks
    assert (auth.name, auth.prompt, auth.template, auth.owner) == (
        "auth",
        "Add authentication to api.",  # the block's final line break is not part of the prompt
        "claude-code",
        "alice",
    )
    assert (auth.template_version, auth.preset, auth.organization) == ("v2", "Large", "coder")
    assert auth.follow_ups == ("Run the tests.",)
    assert (auth.wait, auth.on_drift) == ("complete", "replace")
    assert (auth.timeout_seconds, auth.idle_grace_seconds, auth.poll_interval_seconds) == (
        5400.0,
        0.5,
        3.0,
    )
    assert (docs.owner, docs.wait, docs.timeout_seconds) == ("me", "none", 90.0)
    assert docs.follow_ups == ()  # a task's own (empty) list replaces the default list
    assert docs.template == "api-template"


def test_built_in_defaults(tmp_path: Path) -> None:
    text = "version: 1\nbatch: b\ntasks:\n  - {name: a, prompt: p, template: t}\n"
    (task,) = load_batch(write(tmp_path, text)).tasks
    assert (task.owner, task.wait, task.on_drift) == ("me", "idle", "report")
    assert (task.timeout_seconds, task.idle_grace_seconds, task.poll_interval_seconds) == (
        1800.0,
        5.0,
        2.0,
    )
    assert task.template_version is None and task.preset is None and task.organization is None


def test_origin_names_the_file_line_and_matrix_values(tmp_path: Path) -> None:
    text = (
        "version: 1\nbatch: b\ndefaults: {template: t}\ntasks:\n"
        "  - name: plain\n    prompt: p\n"
        "  - name: 'm-{{ matrix.x }}'\n    prompt: p\n    matrix: {x: [1, 2]}\n"
    )
    path = write(tmp_path, text)
    plain, first, second = load_batch(path).tasks
    assert (plain.origin.file, plain.origin.line, dict(plain.origin.matrix)) == (path, 5, {})
    assert (first.name, first.origin.line, dict(first.origin.matrix)) == ("m-1", 7, {"x": 1})
    assert (second.name, dict(second.origin.matrix)) == ("m-2", {"x": 2})


def test_coder_names_carry_the_batch_marker(tmp_path: Path) -> None:
    task = load_batch(write(tmp_path, FULL)).tasks[0]
    assert task.coder_name == f"auth-{ownership.marker('nightly')}"
    assert len(task.coder_name) <= ownership.MAX_CODER_NAME_LENGTH


def test_a_25_character_name_fits_with_its_marker(tmp_path: Path) -> None:
    name = "a" * ownership.MAX_TASK_NAME_LENGTH
    text = f"version: 1\nbatch: b\ntasks:\n  - {{name: {name}, prompt: p, template: t}}\n"
    (task,) = load_batch(write(tmp_path, text)).tasks
    assert len(task.coder_name) == 32


def test_the_batch_is_immutable(tmp_path: Path) -> None:
    batch = load_batch(write(tmp_path, FULL))
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.tasks[0].name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        batch.tasks[0].origin.matrix["x"] = 1  # type: ignore[index, union-attr]
    assert isinstance(batch.tasks, tuple)


def test_var_options_override_manifest_vars(tmp_path: Path) -> None:
    batch = load_batch(write(tmp_path, FULL), variables={"repo": "billing"})
    assert batch.tasks[0].prompt == "Add authentication to billing."


def test_env_is_readable_only_when_named(tmp_path: Path) -> None:
    text = (
        "version: 1\nbatch: b\ndefaults: {template: t}\ntasks:\n"
        "  - {name: a, prompt: 'sha {{ env.GIT_SHA }}'}\n"
    )
    path = write(tmp_path, text)
    environ = {"GIT_SHA": "abc123", "SECRET": "hunter2"}
    batch = load_batch(path, env_names=["GIT_SHA"], environ=environ)
    assert batch.tasks[0].prompt == "sha abc123"
    with pytest.raises(ManifestError) as caught:
        load_batch(path, environ=environ)
    assert "env.GIT_SHA is not available" in caught.value.errors[0].message
    assert "add --env GIT_SHA" in caught.value.errors[0].message


def test_a_named_env_variable_that_is_not_set(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as caught:
        load_batch(write(tmp_path, FULL), env_names=["NOT_SET"], environ={})
    assert str(caught.value) == "--env NOT_SET: the environment variable NOT_SET is not set"


def test_extension_keys_and_merge_keys_share_settings(tmp_path: Path) -> None:
    text = (
        "version: 1\nbatch: b\n"
        "x-big: &big {template: claude-code, preset: Large}\n"
        "tasks:\n"
        "  - <<: *big\n    name: a\n    prompt: p\n"
        "  - <<: *big\n    name: b\n    prompt: p\n    preset: Small\n"
    )
    a, b = load_batch(write(tmp_path, text)).tasks
    assert (a.template, a.preset, b.preset) == ("claude-code", "Large", "Small")


def test_the_same_name_for_different_owners_is_fine(tmp_path: Path) -> None:
    text = (
        "version: 1\nbatch: b\ndefaults: {template: t}\ntasks:\n"
        "  - {name: a, prompt: p, owner: alice}\n  - {name: a, prompt: p, owner: bob}\n"
    )
    assert [t.owner for t in load_batch(write(tmp_path, text)).tasks] == ["alice", "bob"]
