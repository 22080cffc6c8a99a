"""Benchmark: loading a 10,000-task manifest, against plain `yaml.load` of the same file.

Prints the time to load, validate, render and expand the batch with `runner.manifest.load_batch`
as a ratio to `yaml.load(text, Loader=CSafeLoader)` on the same machine. Target: at most 3x.
Both are measured as CPU time, best of several interleaved rounds, so that other work on the
machine does not skew the ratio. The batch is 10,000 tasks written out (plus a few matrices), the
shape a generated manifest has; a small file of large matrices does more work per byte.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from _proof import at_most, emit, quick

from runner.manifest import load_batch

TASKS = 10_000
MATRIX_ENTRIES = 25  # each expands to 4 tasks; the rest are plain entries
TARGET_RATIO = 3.0
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


def main() -> int:
    """Run the benchmark and print one result line."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.tasks.yaml"
        path.write_text(manifest_text(), encoding="utf-8")
        count = len(load_batch(str(path)).tasks)
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
