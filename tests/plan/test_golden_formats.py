"""Literal golden values of what deployed batches and saved plans depend on.

Changing the ownership marker orphans every task a deployed batch created (the batch would no
longer recognise them); changing the saved-plan format makes every saved plan unreadable. These
tests spell the values out literally, so such a change cannot pass unnoticed.
"""

from __future__ import annotations

import json
from dataclasses import replace

from runner import ownership, planfile
from runner.manifest.model import Batch, Expectations
from runner.plan import PlanOptions, make_plan

from .helpers import desired, make_batch, observation

#: `plan_document` of `golden_batch()`, byte for byte (format `coder-tasks-plan`, version 1).
GOLDEN_PLAN = """{
  "format": "coder-tasks-plan",
  "format_version": 1,
  "batch": "nightly",
  "source": "batch.tasks.yaml",
  "server": {
    "version": "v2.34.2",
    "url": "https://coder.example.com"
  },
  "fingerprint": "sha256:0",
  "options": {
    "replace": false,
    "prune": false,
    "targets": [
      "auth",
      "docs"
    ]
  },
  "summary": {
    "create": 2,
    "update": 0,
    "delete": 0,
    "drifted": 0,
    "blocked": 0,
    "changes": true,
    "text": "Plan: 2 to create, 0 to update, 0 to delete, 0 drifted."
  },
  "unlisted": [],
  "actions": [
    {
      "action": "create",
      "symbol": "+",
      "name": "auth",
      "owner": "alice",
      "coder_name": "auth-423903",
      "task_id": null,
      "follow_ups": [
        "Add tests."
      ],
      "delivered_follow_ups": 0,
      "logs_verified": true,
      "reasons": []
    },
    {
      "action": "create",
      "symbol": "+",
      "name": "docs",
      "owner": "bob",
      "coder_name": "docs-423903",
      "task_id": null,
      "follow_ups": [],
      "delivered_follow_ups": 0,
      "logs_verified": true,
      "reasons": []
    }
  ],
  "desired": [
    {
      "name": "auth",
      "prompt": "Add auth.",
      "template": "claude-code",
      "owner": "me",
      "template_version": null,
      "preset": "Small",
      "organization": null,
      "follow_ups": [
        "Add tests."
      ],
      "wait": "idle",
      "timeout_seconds": 600.0,
      "idle_grace_seconds": 5.0,
      "poll_interval_seconds": 2.0,
      "lost_contact_after_seconds": 180.0,
      "on_drift": "report"
    },
    {
      "name": "docs",
      "prompt": "Write docs.",
      "template": "claude-code",
      "owner": "bob",
      "template_version": "v2",
      "preset": null,
      "organization": "research",
      "follow_ups": [],
      "wait": "complete",
      "timeout_seconds": 1800.0,
      "idle_grace_seconds": 5.0,
      "poll_interval_seconds": 2.0,
      "lost_contact_after_seconds": 180.0,
      "on_drift": "replace"
    }
  ]
}
"""

TARGETS = PlanOptions(targets=frozenset({"auth", "docs"}))


def golden_batch() -> Batch:
    return make_batch(
        "nightly",
        desired(
            "nightly",
            "auth",
            "Add auth.",
            follow_ups=("Add tests.",),
            preset="Small",
            timeout_seconds=600.0,
        ),
        desired(
            "nightly",
            "docs",
            "Write docs.",
            owner="bob",
            template_version="v2",
            organization="research",
            wait="complete",
            on_drift="replace",
        ),
    )


def test_the_ownership_marks_are_stable() -> None:
    assert ownership.marker("nightly") == "423903"
    assert ownership.marker("quickstart") == "7ab141"
    assert ownership.coder_name("nightly", "auth") == "auth-423903"
    assert ownership.display_name("nightly", "auth") == "nightly: auth"
    assert ownership.owns("nightly", "auth-423903", "nightly: auth")
    assert not ownership.owns("nightly", "auth-423903", "nightly-2: auth")


def test_the_saved_plan_format_is_stable() -> None:
    batch = golden_batch()
    plan = make_plan(batch, observation(), TARGETS, fingerprint="sha256:0")
    document = planfile.plan_document(
        plan, batch, server_version="v2.34.2", server_url="https://coder.example.com"
    )
    assert planfile.dumps(document) == GOLDEN_PLAN


def test_the_golden_plan_reads_back_into_the_same_batch() -> None:
    saved = planfile.load_plan("plan.json", GOLDEN_PLAN)
    assert saved.batch.tasks == golden_batch().tasks
    assert saved.options == TARGETS
    assert saved.fingerprint == "sha256:0"
    assert saved.server_url == "https://coder.example.com"


LATER_FIELDS = (
    "on_drift",
    "idle_grace_seconds",
    "poll_interval_seconds",
    "lost_contact_after_seconds",
)


def test_a_plan_saved_before_later_fields_existed_still_reads() -> None:
    # A plan written before `on_drift`, the idle grace, the poll interval and the lost-contact
    # grace were stored: the fields it lacks take their defaults instead of making the plan
    # "damaged".
    document = json.loads(GOLDEN_PLAN)
    for item in document["desired"]:
        for later in LATER_FIELDS:
            del item[later]
    saved = planfile.load_plan("old.json", json.dumps(document))
    auth, docs = saved.batch.tasks
    assert (auth.on_drift, docs.on_drift) == ("report", "report")
    assert (auth.idle_grace_seconds, auth.poll_interval_seconds) == (5.0, 2.0)
    assert auth.lost_contact_after_seconds == 180.0
    assert (auth.timeout_seconds, docs.wait, docs.template_version) == (600.0, "complete", "v2")


def test_a_plan_with_expectations_is_version_2_and_reads_back() -> None:
    """A version-1 reader would drop `expect` and let unmet expectations pass: such plans are
    version 2; plans without expectations stay exactly version 1 (above)."""
    golden = golden_batch()
    expect = Expectations(pull_request="opened", message="tests? pass")
    batch = Batch(golden.name, (replace(golden.tasks[0], expect=expect), *golden.tasks[1:]))
    plan = make_plan(batch, observation(), TARGETS, fingerprint="sha256:0")
    text = planfile.dumps(planfile.plan_document(plan, batch))
    document = json.loads(text)
    assert document["format_version"] == 2
    assert document["desired"][0]["expect"] == {"pull_request": "opened", "message": "tests? pass"}
    assert "expect" not in document["desired"][1]
    assert planfile.load_plan("plan.json", text).batch.tasks == batch.tasks
