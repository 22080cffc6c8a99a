"""How fast imperative commands start, as a ratio to a bare interpreter on the same machine.

Times `tasks --help` (start-up alone) and a real `tasks list` against a simulated deployment
(start-up plus a few requests over loopback), each the best of several runs, against
`python -c "import click, httpx"` (the two libraries an imperative command cannot do without),
and prints which heavy modules (yaml, jsonschema, jinja2, httpx) each command's help imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from _proof import ROOT, at_most, emit, quick

from runner.sim.server import SimServer

ROUNDS = 5 if quick() else 15
HELP_TARGET = 1.5
LIST_TARGET = 2.0
HEAVY = ("yaml", "jsonschema", "jinja2", "httpx")


def best_of(commands: list[tuple[list[str], dict[str, str] | None]]) -> list[float]:
    """The fastest of ROUNDS runs of each command, in seconds; the rounds interleave the
    commands, so that a busy moment on the machine does not fall on one of them alone."""
    best = [float("inf")] * len(commands)
    for _ in range(ROUNDS):
        for slot, (argv, env) in enumerate(commands):
            start = time.perf_counter()
            subprocess.run(
                argv,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            best[slot] = min(best[slot], time.perf_counter() - start)
    return best


def heavy_imports(command: str) -> list[str]:
    """Heavy top-level packages imported while running `tasks <command> --help`."""
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['tasks', {command!r}, '--help']\n"
        "try:\n    runpy.run_module('runner', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    last_line = (done.stderr.splitlines() or [""])[-1]
    return [name for name in last_line.split(",") if name]


def main() -> None:
    with SimServer() as sim:
        env = {**os.environ, "CODER_URL": sim.url, "CODER_SESSION_TOKEN": sim.token}
        bare, help_only, listing = best_of(
            [
                ([sys.executable, "-c", "import click, httpx"], None),
                ([sys.executable, "-m", "runner", "--help"], None),
                ([sys.executable, "-m", "runner", "list"], env),
            ]
        )
    baseline = f"{bare * 1000:.0f} ms"
    what = "cold start `tasks --help` vs `python -c 'import click, httpx'`"
    emit(at_most(what, help_only / bare, HELP_TARGET, f"{help_only * 1000:.0f} ms", baseline))
    what = "cold start `tasks list` (simulated) vs the same"
    emit(at_most(what, listing / bare, LIST_TARGET, f"{listing * 1000:.0f} ms", baseline))
    for name in ("list", "create", "status", "apply"):
        loaded = heavy_imports(name)
        print(f"  tasks {name} --help imports: {', '.join(loaded) or 'none of ' + '/'.join(HEAVY)}")


if __name__ == "__main__":
    main()
