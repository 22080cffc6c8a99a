"""`make bench`: run every benchmark script under bench/, then print their rows as one table.

Each script runs with this interpreter, one by one (they measure wall time: running them side by
side would skew each other). A script reports measurements as `ROW {json}` lines (see
`bench/_proof.py`); every other line is passed through as it comes. The table at the end is
Markdown, headed by the machine it ran on, ready for the README. `--quick` asks every script for
a smaller run; `--only SCRIPT[.PART]` runs one script or one part of it, e.g.
`--only apply_load.rate_limit`. Exits non-zero when a script failed or a target was missed.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from _proof import ROW_PREFIX, Row, only, selected

HERE = Path(__file__).resolve().parent


def machine() -> str:
    """Cores, CPU model and Python version: what the numbers depend on."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # What `nproc` says: the cores this process may run on.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cores} cores ({model}), Python {platform.python_version()}, "
        f"load average {load:.1f} at the start"
    )


def run_script(script: Path, extra: list[str]) -> tuple[list[Row], bool]:
    """Run one script, echoing its output; its rows and whether it exited cleanly."""
    rows: list[Row] = []
    proc = subprocess.Popen(
        [sys.executable, str(script), *extra],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(ROW_PREFIX):
            row = Row(**json.loads(line[len(ROW_PREFIX) :]))
            rows.append(row)
            print(f"  {row.what.strip()}: {row.measured} ({'met' if row.met else 'NOT met'})")
        else:
            print(line, end="")
        sys.stdout.flush()
    return rows, proc.wait() == 0


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| what | measured | baseline | ratio | target | met? |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
        what = row.what.strip() if not row.what.startswith(" ") else "↳ " + row.what.strip()
        verdict = "yes" if row.met else "**no**"
        lines.append(
            f"| {what} | {row.measured} | {row.baseline} | {ratio} | {row.target} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Run each `bench/*.py` except this file and the `_` helpers; print the table."""
    extra = [arg for arg in sys.argv[1:] if arg == "--quick"]
    if only():
        extra += ["--only", only()]
    started_on = machine()
    rows: list[Row] = []
    failed: list[str] = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name or script.name.startswith("_"):
            continue
        if not selected(script.stem):
            continue
        print(f"==> {script.relative_to(HERE.parent)}", flush=True)
        found, ok = run_script(script, extra)
        rows += found
        if not ok:
            failed.append(script.name)
    print()
    print(f"Measured on {started_on}{' (' + ' '.join(extra) + ')' if extra else ''}:")
    print()
    print(table(rows))
    missed = [row.what.strip() for row in rows if not row.met]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    if missed:
        print(f"\ntargets missed: {'; '.join(missed)}")
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
