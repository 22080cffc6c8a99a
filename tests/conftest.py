"""Shared fixtures: a simulated deployment on loopback and the real `tasks` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "coder-reference"

#: Fast server time for tests: one simulated second takes 20 ms.
TEST_TIME_SCALE = 0.02


@pytest.fixture
def reference() -> Path:
    """`../shared/coder-reference`, or a skip with a one-line reason where it is absent."""
    if not (REFERENCE / "CONTRACT.md").is_file():
        pytest.skip("../shared/coder-reference is absent; contract and golden tests skipped")
    return REFERENCE


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def tasks_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every `tasks` subprocess: none of this machine's Coder or tasks
    settings, no home directory, no step summary; then `env` (an empty value removes a name)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "TASKS_"))}
    full["HOME"] = full.get("TASKS_TEST_HOME", "/nonexistent-home")
    full.pop("GITHUB_STEP_SUMMARY", None)
    full["NO_COLOR"] = "1"
    full["PYTHONUNBUFFERED"] = "1"  # tests that read output as it comes need every line at once
    full.update(env or {})
    return {k: v for k, v in full.items() if v}


def start_tasks(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, **popen: Any
) -> subprocess.Popen[Any]:
    """Start the real `tasks` command, for tests that talk to it while it runs.

    Text pipes for stdout and stderr and no stdin unless `popen` says otherwise.
    """
    options: dict[str, Any] = {
        "cwd": str(ROOT),
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
        "text": True,
    }
    options.update(popen)
    return subprocess.Popen([sys.executable, "-m", "runner", *args], env=tasks_env(env), **options)


def run_tasks(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> Result:
    """Run the real `tasks` command in a subprocess and capture what a user would see."""
    proc = subprocess.run(
        [sys.executable, "-m", "runner", *args],
        env=tasks_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(cwd or ROOT),
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _start_sim(version: str, **kwargs: object) -> object:
    from runner.sim.server import SimServer

    kwargs.setdefault("time_scale", TEST_TIME_SCALE)  # a test may ask for slower server time
    server = SimServer(coder_version=version, **kwargs)  # type: ignore[arg-type]
    server.start()
    return server


@pytest.fixture(params=["2.28.11", "2.34.2"], ids=["v2.28", "v2.34"])
def sim(request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh simulated deployment, once per API generation (experimental and GA)."""
    server = _start_sim(request.param)
    yield server
    server.stop()  # type: ignore[attr-defined]


@pytest.fixture
def make_sim() -> Iterator[object]:
    """A factory for simulated deployments with chosen options; all are stopped afterwards."""
    started: list[object] = []

    def factory(version: str = "2.34.2", **kwargs: object) -> object:
        server = _start_sim(version, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()  # type: ignore[attr-defined]


def sim_env(server: object) -> dict[str, str]:
    """Environment that points the `tasks` command at `server`."""
    return {
        "CODER_URL": server.url,  # type: ignore[attr-defined]
        "CODER_SESSION_TOKEN": server.token,  # type: ignore[attr-defined]
    }
