"""Inputs that are not manifests at all: each gives a located error, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_tasks

from runner.errors import ManifestError
from runner.manifest import load_batch
from runner.manifest.source import MAX_FILE_BYTES, MAX_SCAN_DEPTH
from runner.manifest.yamltree import MAX_DEPTH


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load_batch(str(path))
    return [str(error) for error in caught.value.errors]


def test_a_directory(tmp_path: Path) -> None:
    assert errors_of(tmp_path) == [f"{tmp_path}: is a directory, not a manifest file"]


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.tasks.yaml"
    assert errors_of(path) == [f"{path}: no such file"]


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.tasks.yaml"
    path.write_bytes(b"")
    message = "the file is empty; a batch needs at least version, batch and tasks"
    assert errors_of(path) == [f"{path}:1:1: {message}"]


def test_binary_data(tmp_path: Path) -> None:
    path = tmp_path / "binary.tasks.yaml"
    path.write_bytes(b"version: 1\nbatch: x\x00y\n")
    message = "binary data (a NUL byte); a manifest is UTF-8 text"
    assert errors_of(path) == [f"{path}:2:9: {message}"]


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.tasks.yaml"
    path.write_bytes("version: 1\nbatch: caf\xe9\n".encode("latin-1"))
    assert errors_of(path) == [f"{path}:2:11: invalid UTF-8 (byte 0xe9); save it as UTF-8"]


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.tasks.yaml"
    text = "version: 1\nbatch: bom\ntasks:\n  - {name: a, prompt: p, template: t}\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert [task.name for task in load_batch(str(path)).tasks] == ["a"]


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.tasks.yaml"
    path.write_bytes(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    size = path.stat().st_size
    assert errors_of(path) == [
        f"{path}: is {size:,} bytes; manifests may be at most {MAX_FILE_BYTES:,}"
    ]


def test_deeply_nested_brackets_are_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "deep.tasks.yaml"
    path.write_text("tasks: " + "[" * 100_000 + "]" * 100_000 + "\n")
    column = len("tasks: ") + MAX_SCAN_DEPTH + 1
    assert errors_of(path) == [f"{path}:1:{column}: nested more than {MAX_SCAN_DEPTH} levels deep"]


def test_deep_same_line_block_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dashes.tasks.yaml"
    path.write_text("tasks:\n  " + "- " * 50_000 + "x\n")
    assert errors_of(path) == [f"{path}:2:3: nested more than {MAX_SCAN_DEPTH} levels deep"]


def test_deep_indentation_is_refused_while_converting(tmp_path: Path) -> None:
    path = tmp_path / "indent.tasks.yaml"
    lines = [" " * level + f"k{level}:" for level in range(MAX_DEPTH + 5)]
    path.write_text("\n".join(lines) + " end\n")
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].endswith(f"nested more than {MAX_DEPTH} levels deep")


def test_brackets_inside_prompts_are_not_nesting(tmp_path: Path) -> None:
    path = tmp_path / "brackets.tasks.yaml"
    prompt = "[" * (MAX_SCAN_DEPTH // 2) + "]" * (MAX_SCAN_DEPTH // 2)
    path.write_text(
        "version: 1\nbatch: b\ntasks:\n"
        + "".join(f"  - {{name: t{i}, prompt: '{prompt}', template: t}}\n" for i in range(5))
    )
    assert len(load_batch(str(path)).tasks) == 5


def test_the_command_survives_what_crashes_libyaml(tmp_path: Path) -> None:
    path = tmp_path / "deep.tasks.yaml"
    path.write_text("[" * 100_000 + "\n")
    result = run_tasks(["validate", str(path)])
    assert result.code == 3
    assert "Traceback" not in result.output
    assert f"{path}:1:{MAX_SCAN_DEPTH + 1}: nested more than" in result.stderr
