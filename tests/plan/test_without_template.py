"""Planning and saving a task that has no template (a chat whose agent picks its environment)."""

from __future__ import annotations

import json

import pytest

from runner import planfile
from runner.coder.models import Task
from runner.errors import InvalidInputError
from runner.manifest.model import DesiredTask
from runner.plan import ActionKind, make_plan

from .helpers import make_batch, observation, owned_task, task_json
from .test_golden_formats import GOLDEN_PLAN, golden_batch


def free(prompt: str = "P", template: str | None = None) -> DesiredTask:
    return DesiredTask(batch="nightly", name="a", prompt=prompt, template=template)


def chat_without_workspace(prompt: str) -> Task:
    """A chat as the Chats backend shows it when no workspace is pinned: no template at all."""
    data = task_json("a-423903", prompt, display_name="nightly: a")
    data.update(template_id="", template_version_id="", template_name="", workspace_id=None)
    return Task.from_json(data)


def test_no_template_in_the_manifest_is_no_template_drift() -> None:
    # Whatever environment the item has (the agent's own, or one pinned earlier), nothing is
    # pinned to compare it with.
    for item in (chat_without_workspace("P"), owned_task("nightly", "a", "P", template="goose")):
        (action,) = make_plan(make_batch("nightly", free()), observation(item)).actions
        assert action.kind is ActionKind.NOOP, action.reasons


def test_a_template_the_item_lacks_or_differs_from_is_drift() -> None:
    (action,) = make_plan(
        make_batch("nightly", free(template="claude-code")),
        observation(chat_without_workspace("P")),
    ).actions
    assert action.kind is ActionKind.DRIFT
    assert action.reasons == ("no template pinned, manifest says 'claude-code'",)
    (action,) = make_plan(
        make_batch("nightly", free(template="claude-code")),
        observation(owned_task("nightly", "a", "P", template="goose")),
    ).actions
    assert action.reasons == ("template is 'goose', manifest says 'claude-code'",)


def test_a_workspace_that_could_not_be_read_is_not_taken_for_none() -> None:
    # The chat is bound to a workspace the backend failed to read: no template is known, but
    # one is pinned; reporting drift (and replacing, under on_drift: replace) would be wrong.
    data = task_json("a-423903", "P", display_name="nightly: a")
    data.update(template_id="", template_version_id="", template_name="")
    (action,) = make_plan(
        make_batch("nightly", free(template="claude-code")), observation(Task.from_json(data))
    ).actions
    assert action.kind is ActionKind.NOOP, action.reasons


def test_a_saved_plan_without_a_template_reads_back() -> None:
    batch = make_batch("nightly", free())
    plan = make_plan(batch, observation())
    document = planfile.plan_document(plan, batch)
    assert document["desired"][0]["template"] is None
    assert document["format_version"] == 1
    saved = planfile.load_plan("plan.json", planfile.dumps(document))
    assert saved.batch.tasks == batch.tasks
    assert saved.batch.tasks[0].template is None


def test_plans_saved_before_templates_were_optional_read_unchanged() -> None:
    # Every plan written so far names a template; a plan whose template is not text is damaged.
    assert planfile.load_plan("old.json", GOLDEN_PLAN).batch.tasks == golden_batch().tasks
    damaged = json.loads(GOLDEN_PLAN)
    damaged["desired"][0]["template"] = 7
    with pytest.raises(InvalidInputError, match="damaged plan file"):
        planfile.load_plan("bad.json", json.dumps(damaged))
