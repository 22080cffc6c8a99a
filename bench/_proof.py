"""What the benchmarks share: the result rows `bench/run.py` gathers into one table, the real
`tasks` command in a subprocess, and a simulated deployment in this process.

A benchmark prints a row as one line `ROW {json}`; `bench/run.py` passes every other line
through and prints all rows as one table at the end. `--quick` (or `TASKS_BENCH_QUICK=1`) asks
each benchmark for a smaller run; `--only SCRIPT[.PART]` (or `TASKS_BENCH_ONLY`) runs one
script, or one part of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROW_PREFIX = "ROW "


def quick() -> bool:
    """Whether a smaller, faster run was asked for."""
    return "--quick" in sys.argv[1:] or os.environ.get("TASKS_BENCH_QUICK") == "1"


def only() -> str:
    """What `--only` (or `TASKS_BENCH_ONLY`) selects: `script` or `script.part`; "" for all."""
    args = sys.argv[1:]
    for number, arg in enumerate(args):
        if arg.startswith("--only="):
            return arg.split("=", 1)[1]
        if arg == "--only" and number + 1 < len(args):
            return args[number + 1]
    return os.environ.get("TASKS_BENCH_ONLY", "")


def selected(script: str, part: str = "") -> bool:
    """Whether `--only` asks for this script (or this part of it)."""
    wanted = only()
    if not wanted:
        return True
    name, _, piece = wanted.partition(".")
    return name == script and (not piece or not part or piece == part)


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured against which baseline, and the target."""

    what: str
    measured: str
    baseline: str
    ratio: float | None  # None where the measurement has no baseline
    target: str
    met: bool


def emit(row: Row) -> None:
    """Hand one row to `bench/run.py` (and show it to someone running the script alone)."""
    print(ROW_PREFIX + json.dumps(asdict(row)), flush=True)


def at_most(what: str, value: float, limit: float, measured: str, baseline: str = "-") -> Row:
    """A row whose ratio must not exceed `limit`."""
    return Row(what, measured, baseline, value, f"<= {limit:g}", value <= limit)


def at_least(what: str, value: float, limit: float, measured: str, baseline: str = "-") -> Row:
    """A row whose ratio must reach `limit`."""
    return Row(what, measured, baseline, value, f">= {limit:g}", value >= limit)


def clean_env(url: str = "", token: str = "") -> dict[str, str]:
    """The environment of a `tasks` subprocess: no inherited Coder settings, this deployment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "TASKS_"))}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.update(HOME="/nonexistent-home", NO_COLOR="1")
    if url:
        env.update(CODER_URL=url, CODER_SESSION_TOKEN=token)
    return env


def tasks_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "runner", *args]


@dataclass(frozen=True)
class Timed:
    seconds: float
    max_rss_kb: int
    stdout: str
    stderr: str
    code: int


def timed_run(argv: Sequence[str], env: dict[str, str], *, check: bool = True) -> Timed:
    """Run `argv` to completion; its wall time and its own peak resident memory."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        # wait4 reports this child's own peak memory (RUSAGE_CHILDREN is a maximum over all).
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        timed = Timed(seconds, usage.ru_maxrss, out.read(), err.read(), proc.returncode)
    if check and timed.code != 0:
        command = " ".join(argv[2:])
        raise SystemExit(f"{command} exited {timed.code}:\n{timed.stdout}\n{timed.stderr}")
    return timed


def write_manifest(path: Path, batch: str, names: Sequence[str], *, wait: str = "none") -> None:
    """A batch of plain tasks on the simulator's AI template, one per name."""
    lines = [
        "version: 1",
        f"batch: {batch}",
        f"defaults: {{template: claude-code, wait: {wait}, timeout: 10m}}",
        "tasks:",
    ]
    for name in names:
        lines += [f"  - name: {name}", f"    prompt: Work on {name}."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
