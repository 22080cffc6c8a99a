"""Chats at scale, side by side with Tasks: what a batch costs in requests, and where time goes.

Each measurement runs the real `tasks` command in a subprocess against a simulated deployment
(Chats on v2.38, Tasks on v2.34) at 10 ms latency, and counts requests on the simulator's side:

- `create`: one apply creating 1,000 items and waiting for their agents (a short turn each):
  requests per created item, for Tasks, unpinned chats and pinned chats, and apart from them
  the cost reads (v2.36+: one per chat when its run ends, CHATS-CONTRACT 7.4);
- `waiting`: requests per waiting poll at 50, 500 and 1,000 items whose agents keep working
  (the cost reads when the runs end, after the waiting, shown beside them);
- `noop`: a no-op apply of 1,000 existing items (every agent done): its requests (the cost
  reads apart: each chat's is read once at the end of the run) and time;
- `report`: the report phase's share of the create run (after the last item finished).

Parts for `--only chats_scale.PART`: `create`, `waiting`, `noop`, `report` (`create` and
`report` share their run).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _proof import Row, at_most, clean_env, emit, quick, selected, tasks_argv, timed_run

from runner.sim.server import SimServer

LATENCY_MS = 10
PARALLELISM = "8"
POLL = "1s"
WAIT_TIMEOUT = "8s"
TIME_SCALE = 0.02


@dataclass(frozen=True)
class Kind:
    """One side of the comparison: a release, the backend flag and the manifest's template."""

    label: str
    version: str
    backend: str
    template: str | None
    lists: tuple[str, ...]  # the list route(s) a poll reads


TASKS = Kind("Tasks", "2.34.2", "tasks", "claude-code", ("/api/v2/tasks",))
CHATS = Kind("Chats", "2.38.0", "chats", None, ("/api/v2/chats",))
PINNED = Kind("Chats, pinned", "2.38.0", "chats", "claude-code", ("/api/v2/chats",))


def manifest(path: Path, kind: Kind, count: int, *, wait: str, prompt: str) -> Path:
    template = f"template: {kind.template}, " if kind.template else ""
    timeout = WAIT_TIMEOUT if wait != "none" else "10m"
    lines = [
        "version: 1",
        "batch: scale",
        f"defaults: {{{template}wait: {wait}, timeout: {timeout}}}",
        "tasks:",
    ]
    for number in range(count):
        lines += [f"  - name: s{number}", f'    prompt: "{prompt} {number}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def apply(path: Path, kind: Kind, env: dict[str, str], *extra: str, check: bool = True) -> Any:
    argv = tasks_argv(
        "apply", str(path), "--yes", "--backend", kind.backend, "--parallelism", PARALLELISM
    )
    return timed_run([*argv, *extra], env, check=check)


def sim(kind: Kind) -> SimServer:
    return SimServer(
        coder_version=kind.version, latency_ms=LATENCY_MS, rate_limit=0, time_scale=TIME_SCALE
    )


def is_cost(request: dict[str, Any]) -> bool:
    """A chat's cost read (`GET {P}/{chat}/cost`), made once when its run ends."""
    return str(request["path"]).endswith("/cost")


def create_run(work: Path, kind: Kind, count: int) -> tuple[int, int, float, float]:
    """(requests, cost reads among them, seconds, report phase seconds) of one apply creating
    `count` and waiting."""
    path = manifest(work / f"create-{kind.backend}.yaml", kind, count, wait="idle", prompt="Job")
    report = work / "report.json"
    with sim(kind) as server:
        env = clean_env(server.url, server.token)
        ran = apply(path, kind, env, "--poll-interval", "100ms", "--report", str(report))
        ended = datetime.now(timezone.utc)
        requests = len(server.requests)
        costs = sum(1 for r in server.requests if is_cost(r))
    finished = max(
        datetime.fromisoformat(t["timings"]["finished_at"])
        for t in json.loads(report.read_text())["tasks"]
    )
    return requests, costs, ran.seconds, max(0.0, (ended - finished).total_seconds())


def create_and_report(work: Path, count: int) -> None:
    runs = {kind.label: create_run(work, kind, count) for kind in (TASKS, CHATS, PINNED)}
    tasks_per_item = runs["Tasks"][0] / count
    for kind, limit in ((TASKS, 1.5), (CHATS, 1.5), (PINNED, 2.5)):
        requests, costs, seconds, _ = runs[kind.label]
        if selected("chats_scale", "create"):
            what = f"{kind.label}: requests per created item, {count:,} created and waited for"
            apart = f" (+{costs:,} cost reads)" if costs else ""
            shown = f"{requests - costs:,}{apart} in {seconds:.1f} s"
            baseline = f"Tasks {tasks_per_item:.2f}"
            emit(at_most(what, (requests - costs) / count, limit, shown, baseline))
            if kind is not TASKS:
                what = f"{kind.label}: cost reads per created item (one when its run ends)"
                emit(at_most(what, costs / count, 1.0, f"{costs:,}"))
    for kind in (TASKS, CHATS):
        requests, _, seconds, tail = runs[kind.label]
        if selected("chats_scale", "report"):
            what = f"{kind.label}: report phase's share of that run"
            emit(at_most(what, tail / seconds, 0.1, f"{tail:.2f} s of {seconds:.1f} s"))


def polls_of(requests: list[dict[str, Any]], kind: Kind) -> tuple[int, int]:
    """(list requests, polls): a poll's first page is the one without a cursor."""
    listed = [r for r in requests if r["method"] == "GET" and r["path"] in kind.lists]
    first = [r for r in listed if "after_id" not in (r.get("query") or "")]
    return len(listed), len(first)


def waiting(work: Path, kind: Kind, count: int) -> tuple[int, int, int]:
    """(requests, polls, cost reads) of an apply waiting on `count` items whose agents keep
    working; the cost reads, made as the runs end by their timeout, are not the poll's."""
    busy = "Keep working [sim:work=100000]"
    create = manifest(work / "busy.yaml", kind, count, wait="none", prompt=busy)
    wait = manifest(work / "wait.yaml", kind, count, wait="idle", prompt=busy)
    with sim(kind) as server:
        env = clean_env(server.url, server.token)
        apply(create, kind, env)
        server.request_log.clear()
        waited = apply(wait, kind, env, "--poll-interval", POLL, check=False)
        if waited.code != 5:  # the wait must end by its timeout, every agent still working
            raise SystemExit(f"waiting apply exited {waited.code}:\n{waited.stderr}")
        requests = server.requests
    _, polls = polls_of(requests, kind)
    # Every request on the item routes: a per-item read while waiting would show here.
    on_items = [r for r in requests if r["path"].startswith(kind.lists) and not is_cost(r)]
    return len(on_items), polls, sum(1 for r in requests if is_cost(r))


def noop(work: Path, kind: Kind, count: int) -> tuple[int, int, float]:
    """(requests, cost reads among them, seconds) of a no-op apply of `count` items whose
    agents are done."""
    path = manifest(work / "noop.yaml", kind, count, wait="idle", prompt="Job")
    with sim(kind) as server:
        env = clean_env(server.url, server.token)
        apply(path, kind, env, "--poll-interval", "100ms")
        server.request_log.clear()
        again = apply(path, kind, env)
        if "0 to create" not in again.stdout + again.stderr:
            raise SystemExit(f"the second apply was not a no-op:\n{again.stdout}")
        costs = sum(1 for r in server.requests if is_cost(r))
        return len(server.requests), costs, again.seconds


def main() -> int:
    large = 500 if quick() else 1000
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        if selected("chats_scale", "create") or selected("chats_scale", "report"):
            create_and_report(work, large)
        if selected("chats_scale", "waiting"):
            for count in (50, 500) if quick() else (50, 500, 1000):
                for kind in (TASKS, CHATS):
                    requests, polls, costs = waiting(work, kind, count)
                    what = f"{kind.label}: requests per waiting poll at {count:,} items"
                    apart = f" (then {costs:,} cost reads)" if costs else ""
                    shown = f"{requests} req / {polls} polls{apart}"
                    emit(at_most(what, requests / polls, 3, shown))
        if selected("chats_scale", "noop"):
            tasks_requests, _, tasks_seconds = noop(work, TASKS, large)
            chats_requests, costs, chats_seconds = noop(work, CHATS, large)
            baseline = f"Tasks {tasks_requests} req, {tasks_seconds:.1f} s"
            what = f"Chats: no-op apply of {large:,} chats, requests"
            shown = f"{chats_requests - costs} (+{costs:,} cost reads)"
            emit(at_most(what, chats_requests - costs, 20, shown, baseline))
            what = f"Chats: no-op apply of {large:,} chats, cost reads per chat"
            emit(at_most(what, costs / large, 1.0, f"{costs:,}"))
            emit(
                Row(
                    f"Chats: no-op apply of {large:,} chats, time vs Tasks",
                    f"{chats_seconds:.1f} s",
                    f"{tasks_seconds:.1f} s",
                    chats_seconds / tasks_seconds,
                    "<= 1.5",
                    chats_seconds / tasks_seconds <= 1.5,
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
