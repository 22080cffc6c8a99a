"""The simulator follows Coder where an audit against Coder's source found it did not.

Each test names the CONTRACT.md section, or the Coder source file and tag, it follows. The
fixtures judge every response of these tests against the swagger subset of the version.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from runner.sim.server import SimServer

from .helpers import NOT_FOUND, SimApi

UNKNOWN_USER_400 = {
    "message": '"user" must be an existing uuid or username.',
    "detail": 'queried user="ghost"',
}


@pytest.mark.parametrize(
    ("version", "not_found"),
    [("2.28.11", False), ("2.29.0", False), ("2.31.0", False), ("2.31.1", True), ("2.34.2", True)],
)
def test_unknown_user_is_400_until_v2_31_0_and_404_from_v2_31_1(
    make_sim: Any, version: str, not_found: bool
) -> None:
    """CONTRACT 1.5 (`{user}` resolution errors, `httpmw/userparam.go`)."""
    api = SimApi(make_sim(version))
    answers = [
        api.http.get(f"{api.base}/tasks/ghost/{uuid.uuid4()}"),
        api.create(owner="ghost"),
        api.http.get("/api/v2/users/ghost"),
    ]
    for answer in answers:
        if not_found:
            assert (answer.status_code, answer.json()) == (404, {"message": NOT_FOUND})
        else:
            assert (answer.status_code, answer.json()) == (400, UNKNOWN_USER_400)


@pytest.mark.parametrize("version", ["2.31.1", "2.34.2"])
def test_current_state_is_synthesised_for_initializing_only(stepped_sim: Any, version: str) -> None:
    """CONTRACT 2.2 (GA synthesises a state when the task is `initializing`);
    `coderd/aitasks.go` at main a12b0518: `currentState == nil && Status == Initializing`.
    Server time moves a tenth of a simulated second per look, so `initializing` is seen."""
    server, now = stepped_sim(version)
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.1)))
    task = api.create_ok("[sim:work=1] hello")
    assert task["status"] == "pending" and task["current_state"] is None
    coming_up = api.wait(task, lambda t: t["status"] != "pending")
    assert coming_up["status"] == "initializing"
    assert coming_up["current_state"]["state"] == "working"
    assert coming_up["current_state"]["message"] in (
        "Workspace is starting",
        "Agent is connecting",
        "Agent is starting",
        "App is initializing",
    )


@pytest.mark.parametrize("version", ["2.31.1", "2.34.2"])
def test_pausing_a_stopped_task_is_accepted(make_sim: Any, version: str) -> None:
    """`coderd/aitasks.go` pauseTask at main a12b0518 checks no status: a paused task gets
    another stop build. The "already paused" refusal is the CLI's (CONTRACT 10)."""
    api = SimApi(make_sim(version))
    task = api.create_ok("[sim:work=1] nap")
    api.wait_state(task, "idle")
    first = api.http.post(api.task_path(task, "/pause"))
    assert first.status_code == 202
    api.wait(task, lambda t: t["status"] == "paused")
    snapshot = api.logs(task).json()
    again = api.http.post(api.task_path(task, "/pause"))
    assert again.status_code == 202
    build = again.json()["workspace_build"]
    assert (build["transition"], build["reason"]) == ("stop", "task_manual_pause")
    assert build["build_number"] == first.json()["workspace_build"]["build_number"] + 1
    assert api.wait(task, lambda t: t["workspace_status"] == "stopped")["status"] == "paused"
    assert api.logs(task).json() == snapshot  # the agent was gone: the snapshot stays


def test_send_rejects_only_the_empty_string(sim: SimServer) -> None:
    """`coderd/aitasks.go` taskSend at main a12b0518 (and v2.28.11): `req.Input == ""`;
    whitespace-only input is sent on (PATCH input trims, send does not: CONTRACT 1)."""
    api = SimApi(sim)
    task = api.create_ok("[sim:work=1] start")
    api.wait_state(task, "idle")
    empty = api.send(task, "")
    assert (empty.status_code, empty.json()) == (400, {"message": "Task input is required."})
    blank = api.send(task, "   ")
    assert blank.status_code == 204
    inputs = [e["content"] for e in api.logs(task).json()["logs"] if e["type"] == "input"]
    assert inputs[-1] == "   "


def test_an_unknown_uuid_owner_filters_to_an_empty_list(sim: SimServer) -> None:
    """`coderd/searchquery/search.go` parseUser at main a12b0518: a UUID is used as given;
    an unknown username is still a validation error (CONTRACT 1.2)."""
    api = SimApi(sim)
    api.create_ok("[sim:work=1] mine")
    stranger = api.http.get(f"{api.base}/tasks", params={"q": f'owner:"{uuid.uuid4()}"'})
    assert (stranger.status_code, stranger.json()) == (200, {"tasks": [], "count": 0})
    ghost = api.http.get(f"{api.base}/tasks", params={"q": 'owner:"ghost"'})
    assert ghost.status_code == 400


def test_creating_where_the_owner_is_no_member_is_404(sim: SimServer) -> None:
    """`coderd/aitasks.go` createTask at main a12b0518: the owner's membership of the template
    version's organization is looked up, and none is `httpapi.ResourceNotFound` (CONTRACT 1.5:
    404 for not-found and not-allowed alike)."""
    api = SimApi(sim)
    research = api.version_id(org="research", template="claude-code")
    for_bob = api.http.post(
        f"{api.base}/tasks/bob", json={"template_version_id": research, "input": "x"}
    )
    assert (for_bob.status_code, for_bob.json()) == (404, {"message": NOT_FOUND})
    assert api.http.get(f"{api.base}/tasks", params={"q": "owner:bob"}).json()["count"] == 0


def test_a_json_null_body_decodes_as_empty(sim: SimServer) -> None:
    """`coderd/httpapi/httpapi.go` Read at main a12b0518: Go's decoder leaves the request
    struct empty for `null`; an empty body is an `EOF` error."""
    api = SimApi(sim)
    headers = {"Content-Type": "application/json"}
    created = api.http.post(f"{api.base}/tasks/me", content=b"null", headers=headers)
    assert created.status_code == 400
    assert created.json()["message"] == (
        "Template version not found or you do not have access to this resource"
    )
    task = api.create_ok("[sim:work=1] start")
    api.wait_state(task, "idle")
    sent = api.http.post(api.task_path(task, "/send"), content=b"null", headers=headers)
    assert (sent.status_code, sent.json()) == (400, {"message": "Task input is required."})
    nothing = api.http.post(api.task_path(task, "/send"), content=b"", headers=headers)
    assert nothing.status_code == 400
    assert nothing.json() == {"message": "Request body must be valid JSON.", "detail": "EOF"}


@pytest.mark.parametrize("preset", [False, True])
def test_pause_and_resume_builds_always_carry_the_preset_id(make_sim: Any, preset: bool) -> None:
    """`codersdk.WorkspaceBuild.template_version_preset_id` is a pointer without `omitempty`
    (`codersdk/workspacebuilds.go` at v2.31.1 and main a12b0518): present, null without one."""
    server = make_sim("2.34.2")
    api = SimApi(server)
    fields: dict[str, Any] = {}
    preset_id = None
    if preset:
        presets = api.http.get(f"/api/v2/templateversions/{api.version_id()}/presets").json()
        preset_id = presets[-1]["ID"]
        fields["template_version_preset_id"] = preset_id
    task = api.create_ok("[sim:work=1] preset", **fields)
    api.wait_state(task, "idle")
    paused = api.http.post(api.task_path(task, "/pause")).json()["workspace_build"]
    assert "template_version_preset_id" in paused
    assert paused["template_version_preset_id"] == preset_id
    api.wait(task, lambda t: t["status"] == "paused")
    resumed = api.http.post(api.task_path(task, "/resume")).json()["workspace_build"]
    assert resumed["template_version_preset_id"] == preset_id
    assert json.loads(json.dumps(resumed)) == resumed


@pytest.mark.parametrize(
    ("version", "reason"), [("2.29.0", "autostop"), ("2.34.2", "task_auto_pause")]
)
def test_the_workspace_ttl_auto_pauses_a_task(make_sim: Any, version: str, reason: str) -> None:
    """A template TTL stops a task's workspace: build reason `task_auto_pause` from v2.31.1
    (`codersdk.BuildReason` in the v2.31.1 subset; `coderd/autobuild/lifecycle_executor.go`
    at main a12b0518), `autostop` before. The task then reads as paused (CONTRACT 2.1)."""
    server = make_sim(version)
    api = SimApi(server)
    task = api.create_ok("[sim:work=1] [sim:autopause=2] nap soon")
    paused = api.wait(task, lambda t: t["status"] == "paused")
    assert paused["workspace_status"] in ("stopping", "stopped")
    (record,) = [t for t in server.store.tasks if t.id == task["id"]]
    builds = [(b.transition, b.reason) for b in record.workspace.builds]
    assert builds == [("start", "initiator"), ("stop", reason)]
    outputs = [e for e in record.snapshot[0] if e["type"] == "output"] if record.snapshot else []
    assert outputs, "the agent's reply before the pause is in the snapshot"
