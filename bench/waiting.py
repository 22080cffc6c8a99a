"""Waiting costs the same whatever the batch size: requests per poll for 50, 500 and 5,000 tasks.

For each size, one `tasks apply` (wait: none) creates the tasks with agents that keep working,
then a second apply waits for them to become idle until its timeout ends the wait. The second
apply's task-route requests on the simulator's side, per list request (one poll), show whether
waiting costs more per task as the batch grows; its peak resident memory at the largest size is
compared with the same apply at the smallest.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from _proof import Row, at_most, clean_env, emit, quick, tasks_argv, timed_run

from runner.sim.server import SimServer

POLL = "1s"
WAIT_TIMEOUT = "8s"
MEMORY_LIMIT_MB = 100.0
TASK_ROUTES = ("/api/v2/tasks", "/api/experimental/tasks")


def manifest(path: Path, count: int, wait: str) -> None:
    lines = [
        "version: 1",
        "batch: waiting",
        f"defaults: {{template: claude-code, wait: {wait}, timeout: {WAIT_TIMEOUT}}}",
        "tasks:",
    ]
    for number in range(count):
        lines += [f"  - name: w{number}", '    prompt: "Keep working. [sim:work=100000]"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure(work: Path, count: int) -> tuple[float, int, int, int]:
    """(seconds, task requests, polls, peak RSS in KiB) of waiting on `count` working tasks."""
    create, wait = work / f"create{count}.yaml", work / f"wait{count}.yaml"
    manifest(create, count, "none")
    manifest(wait, count, "idle")
    with SimServer(rate_limit=0, time_scale=0.02) as sim:
        env = clean_env(sim.url, sim.token)
        timed_run(tasks_argv("apply", str(create), "--yes", "--parallelism", "8"), env)
        sim.request_log.clear()
        waited = timed_run(
            tasks_argv("apply", str(wait), "--yes", "--poll-interval", POLL), env, check=False
        )
        if waited.code != 5:  # the wait must end by its timeout, every task still working
            raise SystemExit(f"waiting apply exited {waited.code}:\n{waited.stderr}")
        seen = [r for r in sim.requests if r["path"].startswith(TASK_ROUTES)]
        polls = sum(1 for r in seen if r["method"] == "GET" and r["path"] in TASK_ROUTES)
    return waited.seconds, len(seen), polls, waited.max_rss_kb


def main() -> int:
    sizes = (50, 500, 1000) if quick() else (50, 500, 5000)
    peaks: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as directory:
        for count in sizes:
            seconds, requests, polls, peaks[count] = measure(Path(directory), count)
            shown = f"{requests} req / {polls} polls, {requests / seconds:.2f} req/s"
            emit(
                at_most(
                    f"waiting on {count:,} tasks: requests per poll", requests / polls, 1.1, shown
                )
            )
    largest, smallest = sizes[-1], sizes[0]
    peak_mb, base_mb = peaks[largest] / 1024, peaks[smallest] / 1024
    emit(
        Row(
            f"peak memory of apply waiting on {largest:,} tasks (vs {smallest})",
            f"{peak_mb:.0f} MB",
            f"{base_mb:.0f} MB",
            peak_mb / base_mb,
            f"<= {MEMORY_LIMIT_MB:g} MB",
            peak_mb <= MEMORY_LIMIT_MB,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
