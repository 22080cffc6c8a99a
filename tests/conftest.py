"""Shared fixtures: a simulated deployment on loopback and the real `tasks` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from contract_schema import CHATS_SUBSET, SUBSETS, exchange_errors, undeclared_read
from stepped_time import SteppedTime

from runner.coder.provenance import ENV as READS_ENV

ROOT = Path(__file__).resolve().parent.parent
#: `TASKS_TEST_REFERENCE` points elsewhere (the tests of the skip-or-fail rule use it).
REFERENCE = Path(
    os.environ.get("TASKS_TEST_REFERENCE") or ROOT.parent / "shared" / "coder-reference"
)

#: Fast server time for tests: one simulated second takes 20 ms.
TEST_TIME_SCALE = 0.02

# A shell starts background jobs with SIGINT ignored, and a child inherits that: the `tasks`
# commands the tests interrupt with SIGINT would then never see it. Take Ctrl-C as a terminal
# gives it, however the suite was started.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

_HELP_GOLDENS = ("", "create_", "delete_", "list_", "logs_", "pause_", "resume_", "send_")
_LOG_GOLDENS = (
    "ByTaskID_JSON",
    "ByTaskID_Table",
    "ByTaskName_JSON",
    "InitializingTaskSnapshot",
    "SnapshotEmptyLogs",
    "SnapshotWithLogs_JSON",
    "SnapshotWithLogs_Table",
    "SnapshotWithSingleMessage",
    "SnapshotWithoutLogs_NoSnapshotCaptured",
)
#: Every file of `../shared/coder-reference` the tests read.
REFERENCE_FILES = (
    "CONTRACT.md",
    *(name for _, name in SUBSETS),
    CHATS_SUBSET,
    *(f"golden/head/coder_task_{cmd}--help.golden" for cmd in (*_HELP_GOLDENS, "status_")),
    *(f"golden/head/Test_TaskLogs_Golden/{name}.golden" for name in _LOG_GOLDENS),
)


def under_ci() -> bool:
    """Any non-empty `CI` (`.ci/run` sets `true`; CI services set `true`, `1`, `yes` or their
    own names): a contract check must never skip silently on a CI machine."""
    return bool(os.environ.get("CI", "").strip())


def missing_reference_files() -> list[str]:
    return [name for name in REFERENCE_FILES if not (REFERENCE / name).is_file()]


@pytest.fixture
def reference() -> Path:
    """`../shared/coder-reference`: under CI a missing file fails the test; locally it skips
    with a one-line reason."""
    missing = missing_reference_files()
    if missing:
        why = f"../shared/coder-reference lacks {', '.join(missing[:3])}" + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        if under_ci():
            pytest.fail(f"{why}: contract and golden tests cannot run under CI", pytrace=False)
        pytest.skip(f"{why}; contract and golden tests skipped")
    return REFERENCE


def _contract_available() -> bool:
    return under_ci() or not missing_reference_files()


def check_exchanges(server: object) -> None:
    """Every answer the simulator gave in a test, judged by its generation's swagger subset."""
    exchanges = getattr(server, "exchanges", None)
    if not exchanges or not _contract_available():
        return
    version = str(server.version)  # type: ignore[attr-defined]
    problems: list[str] = []
    for exchange in exchanges:
        payload = exchange["payload"]
        if isinstance(payload, dict) and payload.get("message") == "Internal error.":
            problems.append(f"{exchange['method']} {exchange['path']}: {payload.get('detail')}")
        problems += exchange_errors(
            REFERENCE,
            version,
            method=exchange["method"],
            path=exchange["path"],
            query=exchange["query"],
            request_body=exchange["body"],
            status=exchange["status"],
            payload=exchange["payload"],
        )
    unique = list(dict.fromkeys(problems))
    assert not unique, "the simulator broke its contract:\n" + "\n".join(unique[:20])


@pytest.fixture(autouse=True)
def record_reads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Records every response key the client reads (in-process and in `tasks` subprocesses)
    and checks, after the test, that the contract declares each one (field provenance)."""
    target = tmp_path_factory.mktemp("reads") / "reads.jsonl"
    previous = os.environ.get(READS_ENV)
    os.environ[READS_ENV] = str(target)
    try:
        yield target
    finally:
        if previous is None:
            os.environ.pop(READS_ENV, None)
        else:
            os.environ[READS_ENV] = previous
    if not target.exists() or not _contract_available():
        return
    problems = undeclared_reads(target)
    assert not problems, "the client reads undeclared keys:\n" + "\n".join(problems)


def undeclared_reads(target: Path) -> list[str]:
    """Every recorded read the contract does not declare (reads from non-Coder fakes, which
    send no build version header, are not judged)."""
    problems: list[str] = []
    for line in target.read_text().splitlines():
        read = json.loads(line)
        if not read["version"]:
            continue
        problem = undeclared_read(REFERENCE, read)
        if problem:
            problems.append(problem)
    return list(dict.fromkeys(problems))


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
    if READS_ENV in os.environ:  # the field-provenance record survives the scrub
        full[READS_ENV] = os.environ[READS_ENV]
    full["PYTHONUNBUFFERED"] = "1"  # tests that read output as it comes need every line at once
    # A command stopped with SIGABRT prints every thread's stack: see `exited`.
    full["PYTHONFAULTHANDLER"] = "1"
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


@contextmanager
def running_tasks(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, **popen: Any
) -> Iterator[subprocess.Popen[Any]]:
    """`start_tasks` for the block; afterwards the command is killed if it still runs, and its
    pipes are closed."""
    proc = start_tasks(args, env=env, **popen)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def exited(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The command's stdout and stderr once it exits within `timeout` s; otherwise the test
    fails with what it printed and where each of its threads stood (SIGABRT makes Python's
    fault handler print every thread's stack)."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"still running {timeout:g} s later; stdout: {out[-2000:]}\nstderr: {err}")


def read_until(
    proc: subprocess.Popen[str], marker: str, deadline: float = 30.0, *, count: int = 1
) -> str:
    """Lines of stdout until `count` of them contain `marker` (the process keeps running)."""
    seen = ""
    found = 0
    end = time.monotonic() + deadline
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            break
        seen += line
        if marker in line:
            found += 1
            if found == count:
                return seen
    raise AssertionError(f"never saw {count} x {marker!r}:\n{seen}")


#: `apply` flags that make waits short against a test simulator.
FAST_WAITS = ("--poll-interval", "50ms", "--idle-grace", "100ms")


def write_manifest(tmp_path: Path, body: str, name: str = "batch.tasks.yaml") -> str:
    """Write a manifest into the test's directory; its path."""
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def clean(result: Result, server: Any) -> Result:
    """`result`, checked to show no traceback and not `server`'s session token."""
    assert "Traceback" not in result.output
    assert server.token not in result.output
    return result


def ok(result: Result, server: Any, code: int = 0) -> Result:
    """`result`, checked to exit with `code` and to be `clean`."""
    assert result.code == code, result.output
    return clean(result, server)


def _start_sim(version: str, **kwargs: object) -> object:
    from runner.sim.server import SimServer

    kwargs.setdefault("time_scale", TEST_TIME_SCALE)  # a test may ask for slower server time
    server = SimServer(coder_version=version, **kwargs)  # type: ignore[arg-type]
    server.exchanges = []
    server.start()
    return server


# A test marked with this runs its `sim` on each API a batch can meet: both Tasks generations
# and a release that serves only Chats.
ON_EVERY_API = pytest.mark.parametrize(
    "sim", ["2.28.11", "2.34.2", "2.38.0"], ids=["v2.28", "v2.34", "v2.38"], indirect=True
)


@pytest.fixture(params=["2.28.11", "2.34.2"], ids=["v2.28", "v2.34"])
def sim(request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh simulated deployment, once per Tasks generation (experimental and GA); on
    every API with `ON_EVERY_API`."""
    server = _start_sim(request.param)
    yield server
    server.stop()  # type: ignore[attr-defined]
    check_exchanges(server)


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
    for server in started:
        check_exchanges(server)


@pytest.fixture
def stepped_sim(make_sim: Callable[..., Any]) -> Callable[..., tuple[Any, SteppedTime]]:
    """A factory like `make_sim` for deployments whose time moves only when the test advances
    the `SteppedTime` it returns with the server."""

    def factory(version: str = "2.34.2", **kwargs: object) -> tuple[Any, SteppedTime]:
        now = SteppedTime()
        # The rate limiter's window is server time: held still, it never ends, so polls made
        # while a test waits for an event would spend one window's budget (512 per path) and
        # then be refused until the test moves time, on a slow machine before the event comes.
        # A test of the limiter under stepped time asks for one (`rate_limit=N`).
        kwargs.setdefault("rate_limit", 0)
        return make_sim(version, now=now, **kwargs), now

    return factory


def sim_env(server: object) -> dict[str, str]:
    """Environment that points the `tasks` command at `server`."""
    return {
        "CODER_URL": server.url,  # type: ignore[attr-defined]
        "CODER_SESSION_TOKEN": server.token,  # type: ignore[attr-defined]
    }
