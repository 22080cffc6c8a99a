"""A create Coder refuses as "name taken" while its lookup by owner and name finds nothing.

The simulator's fault rules answer the create 409 without creating anything (the control is
not on the wire: only the 409 is), so the lookup that follows really finds nothing. Apply must
not loop until the task's timeout: after a few tries the task fails with both of Coder's
answers; a contradiction that clears before then is lived through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, Result, clean, run_tasks, sim_env, write_manifest

from runner import ownership
from runner.backends.conflicts import CONTRADICTION_TRIES

BATCH = """\
version: 1
batch: nightly
defaults:
  template: claude-code
  template_version: v1
  timeout: 10m
tasks:
  - name: auth
    prompt: "Add auth [sim:work=1]"
"""
#: The create each backend makes that a name can refuse: the task, or the pinned workspace.
CREATES = {
    "tasks": ("POST", r"^/api/v2/tasks/admin$"),
    "chats": ("POST", r"^/api/v2/users/admin/workspaces$"),
}
INJECTED = "Simulated failure injected by the test."
#: The name on the deployment: the task's, and its pinned workspace's on chats.
NAME = ownership.coder_name("nightly", "auth")


def creates(sim: Any, backend: str) -> list[int]:
    method, pattern = CREATES[backend]
    path = pattern.strip("^$")
    return [r["status"] for r in sim.requests if r["method"] == method and r["path"] == path]


def lookups(sim: Any) -> list[int]:
    name = f"/api/v2/users/admin/workspace/{NAME}"
    return [r["status"] for r in sim.requests if r["method"] == "GET" and r["path"] == name]


def apply_refused(sim: Any, tmp_path: Path, backend: str, times: int) -> tuple[Any, Result]:
    """Apply the batch while the next `times` creates are answered 409 and make nothing."""
    method, path = CREATES[backend]
    sim.faults.add(method=method, path=path, status=409, times=times)
    args = ["apply", write_manifest(tmp_path, BATCH), "--yes", "--backend", backend]
    return sim, clean(run_tasks([*args, *FAST_WAITS], env=sim_env(sim), timeout=120), sim)


@pytest.mark.parametrize(("backend", "version"), [("tasks", "2.34.2"), ("chats", "2.38.0")])
def test_a_name_refused_but_never_found_fails_the_task_with_both_answers(
    make_sim: Any, tmp_path: Path, backend: str, version: str
) -> None:
    sim, result = apply_refused(make_sim(version), tmp_path, backend, times=1000)
    assert result.code == 1, result.output
    assert (
        f"Coder refused to create admin/{NAME} as taken "
        f'(409 "{INJECTED}"), yet found nothing by that owner and name (404 "Resource not '
        f'found or you do not have access to this resource"), {CONTRADICTION_TRIES} times '
        "in a row" in " ".join(result.output.split())
    ), result.output
    assert creates(sim, backend) == [409] * CONTRADICTION_TRIES
    assert 404 in lookups(sim)


@pytest.mark.parametrize(("backend", "version"), [("tasks", "2.34.2"), ("chats", "2.34.2")])
def test_a_contradiction_that_clears_before_the_last_try_converges(
    make_sim: Any, tmp_path: Path, backend: str, version: str
) -> None:
    sim, result = apply_refused(make_sim(version), tmp_path, backend, CONTRADICTION_TRIES - 1)
    assert result.code == 0, result.output
    assert "Apply: 1 ok" in result.output
    assert creates(sim, backend) == [409] * (CONTRADICTION_TRIES - 1) + [201]
