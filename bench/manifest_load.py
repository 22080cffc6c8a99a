"""Benchmark: loading a 10,000-task manifest, against plain `yaml.load` of the same file.

Prints the time to load, validate, render and expand the batch with `runner.manifest.load_batch`
as a ratio to `yaml.load(text, Loader=CSafeLoader)` on the same machine. Target: at most 3x.
Both are measured as CPU time, best of several interleaved rounds, so that other work on the
machine does not skew the ratio. The `fresh` part measures the same in a new process each
(start-up and imports included, as a `tasks plan` pays them; target at most 2x), and the
start-up alone: a process that only imports what a valid load needs, against one that imports
yaml (at most 3x: the interpreter's own start is in both). The batch is 10,000 tasks written
out (plus a few matrices), the shape a generated manifest has; a small file of large matrices
does more work per byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from _proof import ROOT, at_most, emit, quick, selected

from runner.manifest import load_batch

TASKS = 10_000
MATRIX_ENTRIES = 25  # each expands to 4 tasks; the rest are plain entries
TARGET_RATIO = 3.0
FRESH_TARGET_RATIO = 2.0
#: Start-up (interpreter, imports) of a load against the interpreter importing yaml alone.
STARTUP_TARGET_RATIO = 3.0
OURS = "from runner.manifest import load_batch; load_batch({path!r})"
PLAIN = "import yaml; yaml.load(open({path!r}, encoding='utf-8').read(), Loader=yaml.CSafeLoader)"
#: Start-up alone: what loading imports, against what plain yaml.load imports.
OURS_START = "import runner.manifest.loader, runner.manifest.templating, yaml"
PLAIN_START = "import yaml"
ROUNDS = 2 if quick() else 5


def manifest_text(tasks: int = TASKS) -> str:
    """A batch of `tasks` tasks: defaults, vars, templated prompts, follow-ups, some matrices."""
    lines = [
        "# yaml-language-server: $schema=../schemas/batch.schema.json",
        "version: 1",
        "batch: bench",
        "defaults:",
        "  template: claude-code",
        "  organization: coder",
        "  wait: idle",
        "  timeout: 30m",
        "  follow_ups:",
        "    - Run the {{ vars.repo }} test suite and fix what fails.",
        "vars:",
        "  repo: api",
        "  team: platform",
        "tasks:",
    ]
    plain = tasks - 4 * MATRIX_ENTRIES
    for number in range(plain):
        lines += [
            f"  - name: issue-{number}",
            "    prompt: |",
            f"      Fix issue #{number} in the {{{{ vars.repo }}}} service.",
            "      Keep the change small and add a regression test.",
        ]
        if number % 4 == 0:
            lines += [
                "    owner: me",
                "    wait: complete",
                "    timeout: 1h30m",
                "    follow_ups:",
                f"      - Open a pull request for issue {number}.",
                "      - Ask {{ vars.team }} for review.",
            ]
    for number in range(MATRIX_ENTRIES):
        lines += [
            f'  - name: "m{number}-{{{{ matrix.svc }}}}-{{{{ matrix.os }}}}"',
            f'    prompt: "Port job {number} of {{{{ matrix.svc }}}} to {{{{ matrix.os }}}}."',
            "    matrix:",
            "      svc: [users, billing]",
            "      os: [linux, mac]",
        ]
    return "\n".join(lines) + "\n"


def best_times(
    first: Callable[[], object], second: Callable[[], object], rounds: int = ROUNDS
) -> tuple[float, float]:
    """The least CPU time of `rounds` runs of each, in seconds; CPU time and interleaving keep
    other work on the machine out of the ratio."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for slot, action in enumerate((first, second)):
            start = time.process_time()
            action()
            best[slot] = min(best[slot], time.process_time() - start)
    return best[0], best[1]


def process_cpu(code: str) -> float:
    """CPU seconds (user + system) of a fresh `python -c code`, start-up included."""
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"python -c {code!r} failed")
    return usage.ru_utime + usage.ru_stime


def best_processes(first: str, second: str) -> tuple[float, float]:
    """The least CPU time of `ROUNDS` fresh processes of each, interleaved."""
    runs = [(process_cpu(first), process_cpu(second)) for _ in range(ROUNDS)]
    return min(a for a, _ in runs), min(b for _, b in runs)


def fresh(path: Path, count: int) -> None:
    """The load in a fresh process each, and what start-up alone costs."""
    ours, baseline = best_processes(OURS.format(path=str(path)), PLAIN.format(path=str(path)))
    what = f"manifest load of {count:,} tasks in a fresh process vs yaml.load(CSafeLoader)"
    emit(at_most(what, ours / baseline, FRESH_TARGET_RATIO, f"{ours:.3f} s", f"{baseline:.3f} s"))
    start, plain_start = best_processes(OURS_START, PLAIN_START)
    emit(
        at_most(
            "start-up of a manifest load (imports) vs python importing yaml",
            start / plain_start,
            STARTUP_TARGET_RATIO,
            f"{start:.3f} s",
            f"{plain_start:.3f} s",
        )
    )


def main() -> int:
    """Run the benchmark and print its result lines."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.tasks.yaml"
        path.write_text(manifest_text(), encoding="utf-8")
        count = len(load_batch(str(path)).tasks)
        if selected("manifest_load", "fresh"):
            fresh(path, count)
        if not selected("manifest_load", "warm"):
            return 0
        ours, baseline = best_times(
            lambda: load_batch(str(path)),
            lambda: yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader),
        )
        size = path.stat().st_size
    ratio = ours / baseline
    what = f"manifest load of {count:,} tasks ({size / 1e6:.1f} MB) vs yaml.load(CSafeLoader)"
    emit(at_most(what, ratio, TARGET_RATIO, f"{ours:.3f} s", f"{baseline:.3f} s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
