"""Plan text and documents that must not mislead: kept tasks, destroy wording."""

from __future__ import annotations

from runner import planfile
from runner.coder.models import Task
from runner.plan import PlanOptions, make_plan
from runner.render.plan import render_plan

from .helpers import desired, make_batch, observation, owned_task, task_json


def test_owned_tasks_gone_from_the_manifest_are_not_called_a_match_without_prune() -> None:
    batch = make_batch("nightly", desired("nightly", "keep", "K"))
    keep = owned_task("nightly", "keep", "K")
    gone = owned_task("nightly", "gone", "G")
    hand_made = Task.from_json(task_json("nightly-foo", "by hand"))
    plan = make_plan(batch, observation(keep, gone, hand_made))
    assert not plan.has_changes
    assert plan.unlisted == (f"alice/{gone.name}",)
    text = render_plan(plan)
    assert "matches" not in text
    assert f"no longer in the manifest and are kept (alice/{gone.name}); --prune" in text
    document = planfile.plan_document(plan, batch)
    assert document["unlisted"] == [f"alice/{gone.name}"]
    # With --prune they are deletions instead, and nothing is left unlisted.
    pruned = make_plan(batch, observation(keep, gone, hand_made), PlanOptions(prune=True))
    assert pruned.unlisted == () and pruned.to_delete == 1


def test_a_matching_deployment_still_says_it_matches() -> None:
    batch = make_batch("nightly", desired("nightly", "keep", "K"))
    plan = make_plan(batch, observation(owned_task("nightly", "keep", "K")))
    assert plan.unlisted == ()
    assert "No changes. The deployment matches batch 'nightly'." in render_plan(plan)


def test_many_unlisted_tasks_are_counted_not_all_named() -> None:
    gone = [owned_task("nightly", f"g{n}", "G") for n in range(8)]
    plan = make_plan(make_batch("nightly"), observation(*gone))
    assert len(plan.unlisted) == 8
    assert "8 task(s) of the batch" in render_plan(plan) and "and 3 more" in render_plan(plan)


def test_destroy_plan_does_not_say_the_manifest_dropped_its_tasks() -> None:
    keep = owned_task("nightly", "keep", "K")
    plan = make_plan(make_batch("nightly"), observation(keep), PlanOptions(prune=True))
    text = render_plan(plan, destroying=True)
    assert "delete (owned by the batch)" in text and "no longer in the manifest" not in text
    nothing = render_plan(make_plan(make_batch("nightly"), observation()), destroying=True)
    assert "Nothing to destroy: no task of batch 'nightly' was found." in nothing
    assert "matches" not in nothing
