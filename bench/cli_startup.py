"""How fast imperative commands start, as a ratio to a bare interpreter on the same machine.

Times `tasks list --help` (start-up alone) and a real `tasks list` against a simulated deployment
(start-up plus one buildinfo and one list request over loopback), each the best of several runs,
against `python -c pass`, and prints which heavy modules (yaml, jsonschema, jinja2, httpx) each
command's help imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runner.sim.server import SimServer

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 15
HEAVY = ("yaml", "jsonschema", "jinja2", "httpx")


def best_of(argv: list[str], env: dict[str, str] | None = None) -> float:
    """The fastest of ROUNDS runs of `argv`, in seconds."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        subprocess.run(
            argv,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        best = min(best, time.perf_counter() - start)
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
    bare = best_of([sys.executable, "-c", "pass"])
    help_only = best_of([sys.executable, "-m", "runner", "list", "--help"])
    with SimServer() as sim:
        env = {**os.environ, "CODER_URL": sim.url, "CODER_SESSION_TOKEN": sim.token}
        listing = best_of([sys.executable, "-m", "runner", "list"], env=env)
    print(f"cli_startup: bare python {bare * 1000:.0f} ms")
    print(f"  tasks list --help {help_only * 1000:.0f} ms, ratio {help_only / bare:.1f}x")
    print(f"  tasks list (simulated) {listing * 1000:.0f} ms, ratio {listing / bare:.1f}x")
    for name in ("list", "create", "status", "apply"):
        loaded = heavy_imports(name)
        print(f"  tasks {name} --help imports: {', '.join(loaded) or 'none of ' + '/'.join(HEAVY)}")


if __name__ == "__main__":
    main()
