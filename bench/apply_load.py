"""Creating many tasks: `tasks apply` against the floor, a loop of `tasks create`, a rate limit.

Each measurement runs the real `tasks` command in a subprocess against a simulated deployment
served from this process over loopback, and counts requests on the simulator's side:

- apply of 1,000 creates at 20 ms latency versus `_floor_client.py` posting the same creates
  with the same parallelism (the least any client can do on this machine), and the requests
  apply sends per task;
- 200 creates as a loop of `tasks create` processes versus one apply of the same 200;
- 1,000 creates under Coder's 512 requests/minute limit: the wall time versus the limit's bound
  (N requests at L per window take N/L windows; the window is scaled with `time_scale` so the
  run takes seconds), and the number of 429 answers.

Parts for `--only apply_load.PART`: `floor`, `create_loop`, `rate_limit`.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from _proof import (
    ROOT,
    at_least,
    at_most,
    clean_env,
    emit,
    quick,
    selected,
    tasks_argv,
    timed_run,
    write_manifest,
)

from runner.sim.ratelimit import WINDOW_SECONDS
from runner.sim.server import SimServer

PARALLELISM = 4
LATENCY_MS = 20
RATE_LIMIT = 512


def apply_argv(manifest: Path) -> list[str]:
    return tasks_argv("apply", str(manifest), "--yes", "--parallelism", str(PARALLELISM))


def apply_versus_floor(work: Path, count: int, rounds: int) -> None:
    """Best of `rounds` for each, interleaved, on fresh deployments of equal latency."""
    manifest = work / "floor.tasks.yaml"
    write_manifest(manifest, "load", [f"t{n}" for n in range(count)])
    best_apply = best_floor = float("inf")
    requests = 0
    for round_number in range(rounds):
        with SimServer(latency_ms=LATENCY_MS, rate_limit=0, time_scale=0.02) as sim:
            ran = timed_run(apply_argv(manifest), clean_env(sim.url, sim.token))
            if ran.seconds < best_apply:
                best_apply, requests = ran.seconds, len(sim.requests)
        with SimServer(latency_ms=LATENCY_MS, rate_limit=0, time_scale=0.02) as sim:
            floor_argv = [
                sys.executable,
                str(ROOT / "bench" / "_floor_client.py"),
                sim.url,
                sim.token,
                str(count),
                str(PARALLELISM),
                f"floor{round_number}",
            ]
            best_floor = min(best_floor, timed_run(floor_argv, clean_env()).seconds)
    what = f"apply {count:,} creates, {LATENCY_MS} ms latency, vs minimal httpx pool"
    emit(at_most(what, best_apply / best_floor, 1.25, f"{best_apply:.2f} s", f"{best_floor:.2f} s"))
    per_task = requests / count
    emit(at_most("  requests per task (simulator's count)", per_task, 1.02, f"{requests:,}"))


def create_loop_versus_apply(work: Path, count: int, looped: int) -> None:
    """`looped` `tasks create` processes, scaled to `count`, against one apply of `count`."""
    manifest = work / "loop.tasks.yaml"
    write_manifest(manifest, "loop", [f"t{n}" for n in range(count)])
    with SimServer(latency_ms=LATENCY_MS, rate_limit=0, time_scale=0.02) as sim:
        env = clean_env(sim.url, sim.token)
        loop_seconds = 0.0
        for number in range(looped):
            create = tasks_argv(
                "create", "--template", "claude-code", "--name", f"c{number}", f"Work on {number}."
            )
            loop_seconds += timed_run(create, env).seconds
    with SimServer(latency_ms=LATENCY_MS, rate_limit=0, time_scale=0.02) as sim:
        applied = timed_run(apply_argv(manifest), clean_env(sim.url, sim.token)).seconds
    loop_total = loop_seconds * count / looped
    shown = f"{loop_total:.1f} s" + ("" if looped == count else f" ({looped} run, scaled)")
    what = f"{count} creates: loop of `tasks create` vs one apply"
    emit(at_least(what, loop_total / applied, 20, shown, f"{applied:.2f} s"))


def under_rate_limit(work: Path, count: int, time_scale: float) -> None:
    """Creates against the default limit; the bound is the time the limit itself imposes."""
    manifest = work / "limited.tasks.yaml"
    write_manifest(manifest, "limited", [f"t{n}" for n in range(count)])
    with SimServer(rate_limit=RATE_LIMIT, time_scale=time_scale) as sim:
        ran = timed_run(apply_argv(manifest), clean_env(sim.url, sim.token), check=False)
        limited = sum(1 for r in sim.requests if r["status"] == 429)
        created = sum(1 for r in sim.requests if r["method"] == "POST" and r["status"] == 201)
    if ran.code != 0 or created != count:
        print(f"  rate-limited apply exited {ran.code}, {created} of {count} created")
        print("  " + ran.stderr.strip().replace("\n", "\n  "))
    window = WINDOW_SECONDS * time_scale
    bound = count / RATE_LIMIT * window
    what = f"{count:,} creates under {RATE_LIMIT}/min (window {window:g} s): wall vs bound"
    emit(at_most(what, ran.seconds / bound, 1.1, f"{ran.seconds:.1f} s", f"{bound:.1f} s"))
    row = at_most("  429 answers during that apply", limited, 0, str(limited))
    emit(row if created == count else replace(row, met=False))


def main() -> int:
    small = quick()
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        if selected("apply_load", "floor"):
            apply_versus_floor(work, 500 if small else 1000, 1 if small else 2)
        if selected("apply_load", "create_loop"):
            create_loop_versus_apply(work, 200, 20 if small else 100)
        if selected("apply_load", "rate_limit"):
            under_rate_limit(work, 1000, 0.1 if small else 0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
