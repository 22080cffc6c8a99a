"""The planner as a pure function: no HTTP, contract-shaped tasks."""

from __future__ import annotations

import pytest

from runner import ownership
from runner.coder.models import Organization, Task, Template, TemplateVersion
from runner.errors import InvalidInputError
from runner.item import ResolvedTask, task_key
from runner.observation import ObservedTask
from runner.plan import ActionKind, PlanOptions, delivered_count, make_plan
from runner.render.plan import render_plan

from .helpers import ME, desired, make_batch, observation, owned_task, task_json


def kinds(plan: object) -> list[tuple[str, str]]:
    return [(a.kind.value, a.name) for a in plan.actions]  # type: ignore[attr-defined]


def test_empty_deployment_creates_everything_in_sorted_order() -> None:
    batch = make_batch("nightly", desired("nightly", "b", "B"), desired("nightly", "a", "A"))
    plan = make_plan(batch, observation())
    assert kinds(plan) == [("create", "a"), ("create", "b")]
    assert plan.summary() == "Plan: 2 to create, 0 to update, 0 to delete, 0 drifted."
    assert all(a.owner == "alice" for a in plan.actions)
    assert plan.actions[0].coder_name == ownership.coder_name("nightly", "a")


def test_existing_matching_task_is_noop_and_says_no_changes() -> None:
    batch = make_batch("nightly", desired("nightly", "a", "Do A"))
    plan = make_plan(batch, observation(owned_task("nightly", "a", "Do A")))
    assert kinds(plan) == [("noop", "a")]
    assert not plan.has_changes
    text = render_plan(plan)
    assert "No changes" in text
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 drifted." in text


@pytest.mark.parametrize("ga", [True, False])
def test_follow_ups_already_in_logs_are_not_sent_again(ga: bool) -> None:
    want = desired("nightly", "a", "Do A", follow_ups=("one", "two", "three"))
    task = owned_task("nightly", "a", "Do A", ga=ga)
    seen = ObservedTask(task, ("Do A", "one", "something a person typed", "two"))
    plan = make_plan(make_batch("nightly", want), observation(seen, ga=ga))
    (action,) = plan.actions
    assert action.kind is ActionKind.SEND
    assert action.follow_ups == ("three",)
    assert action.delivered == 2
    assert plan.summary() == "Plan: 0 to create, 1 to update, 0 to delete, 0 drifted."


def test_all_follow_ups_delivered_is_noop() -> None:
    want = desired("nightly", "a", "Do A", follow_ups=("one",))
    seen = ObservedTask(owned_task("nightly", "a", "Do A"), ("Do A", "one"))
    assert kinds(make_plan(make_batch("nightly", want), observation(seen))) == [("noop", "a")]


def test_unreadable_logs_plan_a_checked_send_never_a_blind_one() -> None:
    want = desired("nightly", "a", "Do A", follow_ups=("one",))
    seen = ObservedTask(owned_task("nightly", "a", "Do A"), None, "Task is paused.")
    (action,) = make_plan(make_batch("nightly", want), observation(seen)).actions
    assert action.kind is ActionKind.SEND
    assert action.logs_verified is False
    assert "Task is paused." in action.reasons[0]


def test_delivered_count_is_ordered_and_skips_the_prompt() -> None:
    assert delivered_count(["p", "b", "a"], "p", ["a", "b"]) == 1
    assert delivered_count(["p", "a", "a"], "p", ["a", "a", "a"]) == 2
    # A follow-up identical to the prompt is not mistaken for the initial prompt entry.
    assert delivered_count(["p"], "p", ["p"]) == 0
    assert delivered_count([], "p", ["a"]) == 0


def test_drift_is_shown_not_acted_on_unless_replace() -> None:
    want = desired("nightly", "a", "New prompt")
    obs = observation(owned_task("nightly", "a", "Old prompt"))
    plan = make_plan(make_batch("nightly", want), obs)
    assert kinds(plan) == [("drift", "a")]
    assert not plan.has_changes
    assert "prompt differs" in plan.actions[0].reasons
    assert plan.summary() == "Plan: 0 to create, 0 to update, 0 to delete, 1 drifted."
    replaced = make_plan(make_batch("nightly", want), obs, PlanOptions(replace=True))
    assert kinds(replaced) == [("replace", "a")]
    assert replaced.summary() == "Plan: 1 to create, 0 to update, 1 to delete, 0 drifted."
    assert "-/+ a" in render_plan(replaced)


def test_per_task_on_drift_replace() -> None:
    want = desired("nightly", "a", "New", on_drift="replace", follow_ups=("f",))
    plan = make_plan(make_batch("nightly", want), observation(owned_task("nightly", "a", "Old")))
    (action,) = plan.actions
    assert action.kind is ActionKind.REPLACE
    assert action.follow_ups == ("f",)


def test_template_and_pinned_version_drift() -> None:
    want = desired("nightly", "a", "P", template_version="v2")
    task = owned_task("nightly", "a", "P", template="other", version_id="old-version")
    resolved = {
        task_key(want): ResolvedTask(
            ME,
            Organization("org-1", "coder"),
            Template("tpl-1", "claude-code", "org-1", "new-version"),
            TemplateVersion("new-version", "v2", "tpl-1"),
            None,
        )
    }
    (action,) = make_plan(make_batch("nightly", want), observation(task), resolved=resolved).actions
    assert action.kind is ActionKind.DRIFT
    assert any("template is 'other'" in r for r in action.reasons)
    assert any("pinned 'v2'" in r for r in action.reasons)


def test_unpinned_version_change_is_not_drift() -> None:
    want = desired("nightly", "a", "P")
    task = owned_task("nightly", "a", "P", version_id="whatever")
    assert kinds(make_plan(make_batch("nightly", want), observation(task))) == [("noop", "a")]


def test_prune_deletes_only_owned_tasks_absent_from_manifest_and_lists_them_first() -> None:
    batch = make_batch("nightly", desired("nightly", "keep", "K"))
    keep = owned_task("nightly", "keep", "K")
    gone = owned_task("nightly", "gone", "G")
    other_owner_gone = Task.from_json(
        task_json(
            ownership.coder_name("nightly", "old"),
            "O",
            owner="bob",
            display_name=ownership.display_name("nightly", "old"),
        )
    )
    hand_made = Task.from_json(task_json("nightly-foo", "by hand"))
    other_batch = owned_task("nightly-2", "gone", "G")
    # Same marked name, but the display name says it is not ours (GA).
    impostor = Task.from_json(
        task_json(ownership.coder_name("nightly", "imp"), "x", display_name="imp")
    )
    obs = observation(
        keep, gone, other_owner_gone, hand_made, other_batch, impostor, all_visible=True
    )
    assert kinds(make_plan(batch, obs)) == [("noop", "keep")]
    plan = make_plan(batch, obs, PlanOptions(prune=True))
    assert kinds(plan) == [("delete", "gone"), ("delete", "old"), ("noop", "keep")]
    assert {a.task_id for a in plan.actions if a.kind is ActionKind.DELETE} == {
        gone.id,
        other_owner_gone.id,
    }
    assert plan.summary() == "Plan: 0 to create, 0 to update, 2 to delete, 0 drifted."


def test_v228_has_no_display_names_so_the_name_marker_decides() -> None:
    batch = make_batch("nightly")
    gone = owned_task("nightly", "gone", "G", ga=False)
    hand_made = Task.from_json(task_json("nightly-foo", "x", ga=False))
    plan = make_plan(batch, observation(gone, hand_made, ga=False), PlanOptions(prune=True))
    assert kinds(plan) == [("delete", "gone")]


def test_name_held_by_a_stranger_is_a_conflict() -> None:
    want = desired("nightly", "a", "P")
    stranger = Task.from_json(task_json(want.coder_name, "P", display_name="mine, by hand"))
    plan = make_plan(make_batch("nightly", want), observation(stranger), PlanOptions(replace=True))
    assert kinds(plan) == [("conflict", "a")]
    assert plan.summary().endswith("0 drifted, 1 blocked.")


def test_owner_match_is_by_owner_too() -> None:
    want = desired("nightly", "a", "P", owner="bob")
    mine = owned_task("nightly", "a", "P")  # alice's task with the same name
    assert kinds(make_plan(make_batch("nightly", want), observation(mine))) == [("create", "a")]


def test_targets_limit_the_plan_and_unknown_targets_are_errors() -> None:
    batch = make_batch("nightly", desired("nightly", "a", "A"), desired("nightly", "b", "B"))
    plan = make_plan(batch, observation(), PlanOptions(targets=frozenset({"b"})))
    assert kinds(plan) == [("create", "b")]
    with pytest.raises(InvalidInputError, match="--target zzz"):
        make_plan(batch, observation(), PlanOptions(targets=frozenset({"zzz"})))


def test_plan_is_deterministic() -> None:
    tasks = [desired("nightly", n, n) for n in ("c", "a", "b")]
    first = make_plan(make_batch("nightly", *tasks), observation())
    second = make_plan(make_batch("nightly", *reversed(tasks)), observation())
    assert first.actions == second.actions


def test_fingerprint_changes_with_relevant_state_only() -> None:
    batch = make_batch("nightly", desired("nightly", "a", "A"))
    names = [t.coder_name for t in batch.tasks]
    task = owned_task("nightly", "a", "A")
    unrelated = Task.from_json(task_json("someone-else", "x"))
    base = observation(task).fingerprint("nightly", names)
    assert observation(task, unrelated).fingerprint("nightly", names) == base
    assert observation().fingerprint("nightly", names) != base
    assert observation(owned_task("nightly", "a", "A")).fingerprint("nightly", names) != base


def test_plan_document_round_trips_the_batch_and_options(tmp_path: object) -> None:
    from runner import planfile

    batch = make_batch(
        "nightly",
        desired("nightly", "a", "A", follow_ups=("f1", "f2"), wait="complete", timeout_seconds=9),
    )
    options = PlanOptions(prune=True, targets=frozenset({"a"}))
    plan = make_plan(batch, observation(), options, fingerprint="sha256:x")
    text = planfile.dumps(planfile.plan_document(plan, batch, server_url="https://c"))
    assert planfile.looks_like_plan(text)
    assert not planfile.looks_like_plan("version: 1\nbatch: x\n")
    saved = planfile.load_plan("plan.json", text)
    assert saved.batch.tasks == batch.tasks
    assert saved.options == options and saved.fingerprint == "sha256:x"
    assert saved.server_url == "https://c"
    with pytest.raises(InvalidInputError, match=r"plan\.json: damaged plan file"):
        planfile.load_plan("plan.json", text.replace('"desired"', '"nothing"'))
    with pytest.raises(InvalidInputError, match="format version 9"):
        planfile.load_plan("plan.json", text.replace('"format_version": 1', '"format_version": 9'))


def test_drift_alone_is_not_reported_as_matching() -> None:
    want = desired("nightly", "a", "New prompt")
    text = render_plan(
        make_plan(make_batch("nightly", want), observation(owned_task("nightly", "a", "Old")))
    )
    assert "No changes will be made, but the deployment differs from 'nightly'." in text
    assert "matches" not in text
    assert "use --replace" in text
