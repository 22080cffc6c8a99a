"""The planner's part of `after:` (clean-up once the outcome is final), as a pure function.

An archived item of a task with `after: remove` is done; `--replace` or a changed prompt creates
it again; a task with nothing to change carries its `after` only while its clean-up is still to
do (`Observation.to_clean`), and the plan says so (`then stop`, `1 to clean up`).
"""

from __future__ import annotations

from dataclasses import replace

from runner.plan import ActionKind, PlanOptions, make_plan
from runner.render.plan import render_plan

from .helpers import desired, make_batch, observation, observed, owned_task


def archived(seen: object, *items: object) -> object:
    """`seen` with `items` as the batch's finished (archived) items."""
    finished = tuple(observed(t) for t in items)  # type: ignore[arg-type]
    return replace(seen, finished=finished)  # type: ignore[type-var]


def test_a_created_task_ends_with_its_clean_up_and_the_plan_says_so() -> None:
    batch = make_batch("b", desired("b", "a", "A", after="stop", follow_ups=("more",)))
    plan = make_plan(batch, observation())
    (action,) = plan.actions
    assert (action.kind, action.after) == (ActionKind.CREATE, "stop")
    assert "create, then send 1 follow-up, then stop" in render_plan(plan)


def test_an_unchanged_task_carries_its_clean_up_only_while_it_is_still_to_do() -> None:
    task = owned_task("b", "a", "A")
    batch = make_batch("b", desired("b", "a", "A", after="stop"))
    done = make_plan(batch, observation(task))
    assert [(a.kind, a.after) for a in done.actions] == [(ActionKind.NOOP, "")]
    assert not done.has_changes
    pending = make_plan(batch, replace(observation(task), to_clean=frozenset({task.id})))
    assert [(a.kind, a.after) for a in pending.actions] == [(ActionKind.NOOP, "stop")]
    assert pending.has_changes and pending.to_clean_up == 1
    text = render_plan(pending)
    assert "~ a" in text and "no changes, then stop" in text
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 drifted, 1 to clean up." in text


def test_an_archived_item_is_done_for_a_removing_task_only() -> None:
    gone = owned_task("b", "a", "A")
    observed = archived(observation(), gone)
    removing = make_plan(make_batch("b", desired("b", "a", "A", after="remove")), observed)
    assert [(a.kind, a.task_id) for a in removing.actions] == [(ActionKind.NOOP, gone.id)]
    # Archived by hand (`tasks delete`) or by destroy: a task that keeps is created again.
    keeping = make_plan(make_batch("b", desired("b", "a", "A")), observed)
    assert [a.kind for a in keeping.actions] == [ActionKind.CREATE]


def test_replace_or_a_changed_prompt_creates_a_removed_task_again() -> None:
    gone = owned_task("b", "a", "A")
    observed = archived(observation(), gone)
    batch = make_batch("b", desired("b", "a", "A", after="remove"))
    replaced = make_plan(batch, observed, PlanOptions(replace=True))
    (action,) = replaced.actions
    assert (action.kind, action.after) == (ActionKind.CREATE, "remove")
    assert action.reasons == (f"removed as {gone.id}, which --replace creates it again",)
    changed = make_plan(make_batch("b", desired("b", "a", "A2", after="remove")), observed)
    (action,) = changed.actions
    assert action.kind is ActionKind.CREATE and "prompt differs" in action.reasons[0]
    assert "prompt differs" in render_plan(changed)


def test_a_drifted_task_is_not_cleaned_up() -> None:
    task = owned_task("b", "a", "old")
    batch = make_batch("b", desired("b", "a", "new", after="stop"))
    plan = make_plan(batch, replace(observation(task), to_clean=frozenset({task.id})))
    assert [(a.kind, a.after) for a in plan.actions] == [(ActionKind.DRIFT, "")]
