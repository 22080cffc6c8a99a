"""Planner and observation at scale: plan 10,000 desired tasks against 10,000 existing ones.

Prints the time to plan and fingerprint the observation (no HTTP); the planner indexes the
observation, so the time grows linearly with the number of tasks. Target: at most 10 s.
Run with `python bench/apply_plan.py` (or `make bench`).
"""

from __future__ import annotations

import sys
import time
import uuid

from _proof import Row, emit

from runner import ownership
from runner.backends.tasks import as_item
from runner.coder.models import Task, User
from runner.manifest.model import Batch, DesiredTask
from runner.observation import Observation, ObservedTask
from runner.plan import PlanOptions, make_plan

COUNT = 10_000
LIMIT_SECONDS = 10.0
ME = User(str(uuid.uuid4()), "alice")


def existing(batch: str, name: str, prompt: str) -> ObservedTask:
    task = Task.from_json(
        {
            "id": str(uuid.uuid4()),
            "owner_id": ME.id,
            "owner_name": ME.username,
            "name": ownership.coder_name(batch, name),
            "display_name": ownership.display_name(batch, name),
            "template_name": "claude-code",
            "initial_prompt": prompt,
            "status": "active",
        }
    )
    return ObservedTask(as_item(task), (prompt, "follow-up"))


def main() -> int:
    desired = tuple(
        DesiredTask(
            "bench", f"t{i}", f"prompt {i}", "claude-code", follow_ups=("follow-up", "more")
        )
        for i in range(COUNT)
    )
    # Half exist with one follow-up delivered; a tenth are owned leftovers to prune.
    tasks = [existing("bench", f"t{i}", f"prompt {i}") for i in range(0, COUNT, 2)]
    tasks += [existing("bench", f"old{i}", "old") for i in range(COUNT // 10)]
    observation = Observation(ME, tuple(tasks), all_visible=True)
    started = time.perf_counter()
    plan = make_plan(Batch("bench", desired), observation, PlanOptions(prune=True))
    fingerprint = observation.fingerprint("bench", [t.coder_name for t in desired])
    elapsed = time.perf_counter() - started
    print(plan.summary())
    what = f"plan {COUNT:,} desired against {len(tasks):,} existing tasks (no HTTP)"
    emit(
        Row(
            what, f"{elapsed:.3f} s", "-", None, f"<= {LIMIT_SECONDS:g} s", elapsed <= LIMIT_SECONDS
        )
    )
    print(f"fingerprint {fingerprint[:19]}…")
    return 0


if __name__ == "__main__":
    sys.exit(main())
