"""Task routes over real HTTP on loopback, on both API generations (and a few versions between)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from runner.sim.server import SimServer

from .helpers import NOT_FOUND, SimApi, state_of


def is_ga(server: SimServer) -> bool:
    return server.version.is_ga


def test_create_returns_a_fresh_task(sim: SimServer) -> None:
    api = SimApi(sim)
    task = api.create_ok("Add authentication to the user service")
    assert uuid.UUID(task["id"]) and task["id"] != task["workspace_id"]
    assert task["workspace_name"] == task["name"]
    assert task["owner_name"] == "admin"
    assert task["template_name"] == "claude-code"
    assert task["template_display_name"] == "Claude Code"
    assert task["initial_prompt"] == "Add authentication to the user service"
    assert task["workspace_status"] == "pending"
    for field in ("workspace_agent_id", "workspace_agent_lifecycle", "workspace_agent_health"):
        assert task[field] is None
    assert task["workspace_app_id"] is None
    if is_ga(sim):
        assert task["status"] == "pending"  # v2.31.1+
        assert task["current_state"] is None  # synthesised for `initializing` only
        assert re.fullmatch(r"add-authentication-to-the-[0-9a-f]{4}", task["name"])
        assert task["display_name"] == "Add authentication to the user service"
    else:
        assert task["status"] == "initializing"
        assert task["current_state"] is None
        assert re.fullmatch(r"task-[a-z]+-[a-z]+-[0-9a-f]{4}", task["name"])
        assert "display_name" not in task


def test_v2_29_synthesises_state_for_an_initializing_task(make_sim: Any) -> None:
    api = SimApi(make_sim("2.29.0"))
    task = api.create_ok("Hello there")
    assert task["status"] == "initializing"  # a queued start job, before v2.31.1
    assert task["current_state"] == {
        "timestamp": task["current_state"]["timestamp"],
        "state": "working",
        "message": "Workspace is pending",
        "uri": "",
    }
    assert re.fullmatch(r"hello-there-[0-9a-f]{4}", task["name"])


@pytest.mark.parametrize("version", ["2.28.11", "2.34.2"])
def test_task_comes_up_works_and_goes_idle(stepped_sim: Any, version: str) -> None:
    # Time moves a tenth of a simulated second per look, so every state is seen, in order.
    server, now = stepped_sim(version)
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.1)))
    task = api.create_ok("Write the docs")
    seen: list[tuple[str, str | None]] = []

    def record(current: dict[str, Any]) -> bool:
        step = (current["status"], state_of(current))
        if not seen or seen[-1] != step:
            seen.append(step)
        return bool(current["current_state"]) and current["current_state"]["message"].startswith(
            "Done"
        )

    current = api.wait(task, record, timeout=60)
    statuses = [s for s, _ in seen]
    assert statuses[-1] == "active"
    assert "initializing" in statuses
    assert ("active", "working") in seen
    assert seen[-1] == ("active", "idle")
    assert current["workspace_agent_lifecycle"] == "ready"
    assert current["workspace_agent_health"] == {"healthy": True}
    assert current["workspace_status"] == "running"
    assert current["workspace_build_number"] == 1
    logs = api.logs(task).json()
    assert [(e["id"], e["type"]) for e in logs["logs"]] == [(0, "input"), (1, "output")]
    assert logs["logs"][0]["content"] == "Write the docs"
    assert "snapshot" not in logs


def test_get_by_name_only_on_ga(sim: SimServer) -> None:
    api = SimApi(sim)
    task = api.create_ok(name="My-Task")
    response = api.http.get(f"{api.base}/tasks/me/my-task")
    if is_ga(sim):
        assert response.status_code == 200 and response.json()["id"] == task["id"]
        response = api.http.get(f"{api.base}/tasks/admin/MY-TASK")
        assert response.json()["id"] == task["id"]
    else:
        assert response.status_code == 400
        assert response.json() == {"message": 'Invalid UUID "my-task".'}


def test_unknown_tasks_and_users(sim: SimServer) -> None:
    api = SimApi(sim)
    missing = api.http.get(f"{api.base}/tasks/me/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json() == {"message": NOT_FOUND}
    nobody = api.http.get(f"{api.base}/tasks/nobody/{uuid.uuid4()}")
    if sim.version.unknown_user_not_found:  # CONTRACT 1.5: 404 from v2.31.1
        assert nobody.status_code == 404 and nobody.json() == {"message": NOT_FOUND}
    else:
        assert nobody.status_code == 400
        assert nobody.json() == {
            "message": '"user" must be an existing uuid or username.',
            "detail": 'queried user="nobody"',
        }


def test_list_is_newest_first_and_filters(sim: SimServer) -> None:
    admin, alice = SimApi(sim), SimApi(sim, "alice")
    first = admin.create_ok("one")
    second = admin.create_ok("two")
    mine = alice.create_ok("alice's")
    body = admin.http.get(f"{admin.base}/tasks").json()
    assert [t["id"] for t in body["tasks"]] == [mine["id"], second["id"], first["id"]]
    assert body["count"] == 3
    own = admin.http.get(f"{admin.base}/tasks", params={"q": 'owner:"me"'}).json()
    assert {t["id"] for t in own["tasks"]} == {first["id"], second["id"]}
    by_user = admin.http.get(f"{admin.base}/tasks", params={"q": "owner:alice"}).json()
    assert [t["id"] for t in by_user["tasks"]] == [mine["id"]]
    # RBAC post-filter: a member sees only their own tasks, even asking for everyone.
    seen_by_alice = alice.http.get(f"{alice.base}/tasks").json()
    assert [t["id"] for t in seen_by_alice["tasks"]] == [mine["id"]]
    assert alice.http.get(admin.task_path(first)).status_code == 404
    broken = admin.create_ok("[sim:build-fail] broken")
    admin.wait(broken, lambda t: t["status"] == "error")
    filtered = admin.http.get(f"{admin.base}/tasks", params={"q": 'status:"error"'})
    assert [t["id"] for t in filtered.json()["tasks"]] == [broken["id"]]
    orgs = admin.http.get("/api/v2/users/me/organizations").json()
    org = next(o["id"] for o in orgs if o["name"] == "coder")
    in_org = admin.http.get(f"{admin.base}/tasks", params={"q": f"organization:{org}"}).json()
    assert in_org["count"] == 4
    none = admin.http.get(f"{admin.base}/tasks", params={"q": "organization:research"}).json()
    assert none == {"tasks": [], "count": 0}


@pytest.mark.parametrize(
    ("query", "status", "field", "detail"),
    [
        ("foo:bar", 400, "foo", '"foo" is not a valid query param'),
        ("owner:", 400, "q", "Query element \"owner:\" cannot start or end with ':'"),
        ("a:b:c", 400, "q", "Query element \"a:b:c\" can only contain 1 ':'"),
        (
            "owner:ghost",
            400,
            "owner",
            'Query param "owner" has invalid value: user "ghost" either does not exist, '
            "or you are unauthorized to view them",
        ),
        ("organization:nowhere", 400, "organization", 'organization "nowhere" either does not'),
        ("owner:me owner:alice", 400, "owner", "provided more than once, found 2 times"),
    ],
)
def test_list_query_errors(
    sim: SimServer, query: str, status: int, field: str, detail: str
) -> None:
    api = SimApi(sim)
    response = api.http.get(f"{api.base}/tasks", params={"q": query})
    assert response.status_code == status
    body = response.json()
    assert body["message"] == "Invalid task search query."
    assert body["validations"][0]["field"] == field
    assert detail in body["validations"][0]["detail"]


def test_invalid_status_in_query_is_a_server_error(sim: SimServer) -> None:
    api = SimApi(sim)
    response = api.http.get(f"{api.base}/tasks", params={"q": "status:running"})
    assert response.status_code == 500
    assert response.json()["message"] == "Internal error fetching tasks."


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("x" * 33, "must be <= 32 characters"),
        ("new", 'cannot use "new" as a name'),
        ("has space", "must be alphanumeric with hyphens"),
    ],
)
def test_create_rejects_bad_names(sim: SimServer, name: str, detail: str) -> None:
    response = SimApi(sim).create(name=name)
    assert response.status_code == 400
    assert response.json() == {
        "message": "Unable to create a Task with the provided name.",
        "detail": detail,
    }


def test_create_checks_template_and_permissions(sim: SimServer) -> None:
    api = SimApi(sim)
    tasks = f"{api.base}/tasks/me"
    bad_json = api.http.post(tasks, content=b"{nope", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert bad_json.json()["message"] == "Request body must be valid JSON."
    missing = api.http.post(tasks, json={"template_version_id": str(uuid.uuid4()), "input": "x"})
    assert missing.status_code == 400
    assert missing.json()["message"] == (
        "Template version not found or you do not have access to this resource"
    )
    plain = api.http.post(
        tasks, json={"template_version_id": api.version_id(template="docker"), "input": "x"}
    )
    assert plain.status_code == 400
    assert plain.json()["message"] == 'Template does not have a valid "coder_ai_task" resource.'
    alice = SimApi(sim, "alice")
    for_bob = alice.create(owner="bob")
    assert for_bob.status_code == 403
    assert for_bob.json()["message"] == "Unauthorized to create workspace."
    # The owner may create for a member.
    created = api.create(owner="bob")
    assert created.status_code == 201 and created.json()["owner_name"] == "bob"


def test_create_with_template_version_and_preset(sim: SimServer) -> None:
    api = SimApi(sim)
    v1 = api.version_id(version="v1")
    presets = api.http.get(f"/api/v2/templateversions/{v1}/presets").json()
    large = next(p for p in presets if p["Name"] == "Large")
    task = api.create_ok(template_version_id=v1, template_version_preset_id=large["ID"])
    assert task["template_version_id"] == v1
    assert task["template_version_id"] != api.version_id()


def test_name_clash_is_case_insensitive_per_owner(sim: SimServer) -> None:
    api, alice = SimApi(sim), SimApi(sim, "alice")
    api.create_ok(name="shared")
    clash = api.create(name="SHARED")
    assert clash.status_code == 409
    assert clash.json() == {
        "message": 'Workspace "SHARED" already exists.',
        "validations": [
            {"field": "name", "detail": "This value is already in use and should be unique."}
        ],
    }
    assert alice.create(name="shared").status_code == 201


def test_display_name_limit_on_ga(make_sim: Any) -> None:
    api = SimApi(make_sim("2.34.2"))
    too_long = api.create(display_name="d" * 65)
    assert too_long.status_code == 400
    assert too_long.json()["message"] == "Display name must be 64 characters or less."
    assert api.create_ok(display_name="  Mine  ")["display_name"] == "Mine"


@pytest.mark.parametrize("version", ["2.28.11", "2.34.2"])
def test_delete_is_refused_during_a_build_then_keeps_the_name(
    stepped_sim: Any, version: str
) -> None:
    server, now = stepped_sim(version)
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.5)))
    task = api.create_ok(name="reuse-me")
    busy = api.http.delete(api.task_path(task))
    assert busy.status_code == 409
    assert busy.json() == {"message": "A workspace build is already active."}
    api.wait(task, lambda t: t["workspace_status"] == "running")
    deleted = api.http.delete(api.task_path(task))
    assert deleted.status_code == 202 and deleted.content == b""
    assert api.http.get(api.task_path(task)).status_code == 404
    assert api.http.get(f"{api.base}/tasks").json()["count"] == 0
    reserved = api.create(name="reuse-me")
    assert reserved.status_code == 409  # the delete build holds the name until it ends
    for _ in range(1000):
        now.advance(server.clock.span(0.5))
        again = api.create(name="reuse-me")
        if again.status_code != 409:
            break
    assert again.status_code == 201, "the name stayed reserved"


def test_member_cannot_delete_or_send_to_others_tasks(sim: SimServer) -> None:
    admin, bob = SimApi(sim), SimApi(sim, "bob")
    task = admin.create_ok()
    assert bob.http.delete(admin.task_path(task)).status_code == 404
    assert bob.send(task, "hi").status_code == 404
    assert bob.logs(task).status_code == 404


def test_send_before_active(sim: SimServer) -> None:
    api = SimApi(sim)
    task = api.create_ok()
    response = api.send(task, "too early")
    body = response.json()
    if is_ga(sim):
        assert response.status_code == 409
        assert body["message"] in ("Task is pending.", "Task is initializing.")
        assert body == {
            "message": body["message"],
            "detail": "The task is resuming. Wait for the task to become active before "
            "sending messages.",
        }
    else:
        assert response.status_code == 400
        assert body == {
            "message": "Task status must be active.",
            "detail": 'Task status is "initializing", it must be "active" to interact with '
            "the task.",
        }


@pytest.mark.parametrize(
    ("version", "busy_status"),
    [("2.28.11", 502), ("2.29.0", 502), ("2.31.1", 502), ("2.32.0", 409), ("2.34.2", 409)],
)
def test_send_to_a_busy_agent(stepped_sim: Any, version: str, busy_status: int) -> None:
    server, now = stepped_sim(version)  # time stands still between the looks below
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.5)))
    task = api.create_ok("[sim:work=20] long job")
    api.wait_state(task, "working")
    busy = api.send(task, "are you done?")
    assert busy.status_code == busy_status
    assert busy.json() == {
        "message": "Task app is not ready to accept input.",
        "detail": "Status: running",
    }


@pytest.mark.parametrize("version", ["2.28.11", "2.34.2"])
def test_send_when_idle_appends_to_the_transcript(stepped_sim: Any, version: str) -> None:
    server, now = stepped_sim(version)  # time stands still between the looks below
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.5)))
    task = api.create_ok("[sim:work=1] start")
    api.wait_state(task, "idle")
    empty = api.send(task, "")
    assert empty.status_code == 400 and empty.json() == {"message": "Task input is required."}
    sent = api.send(task, "[sim:work=8] follow up")
    assert sent.status_code == 204 and sent.content == b""
    logs = api.logs(task).json()["logs"]
    assert logs[-1]["type"] == "input" and logs[-1]["content"] == "[sim:work=8] follow up"
    assert api.send(task, "again").status_code in (409, 502)  # busy with the follow-up
    api.wait(task, lambda t: len(api.logs(t).json()["logs"]) == 4)
    assert [e["id"] for e in api.logs(task).json()["logs"]] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("version", "failure"), [("2.28.11", "failure"), ("2.31.1", "failure"), ("2.32.0", "failed")]
)
def test_directive_fail(make_sim: Any, version: str, failure: str) -> None:
    api = SimApi(make_sim(version))
    task = api.create_ok("[sim:work=1] [sim:fail] doomed")
    done = api.wait(task, lambda t: state_of(t) == failure)
    assert done["current_state"]["message"].startswith("Failed")


def test_directive_complete_and_build_fail(sim: SimServer) -> None:
    api = SimApi(sim)
    complete = api.create_ok("[sim:work=1] [sim:complete] finish")
    api.wait_state(complete, "complete")
    broken = api.create_ok("[sim:build-fail] bad template")
    failed = api.wait(broken, lambda t: t["status"] == "error")
    assert failed["workspace_status"] == "failed"
    assert failed["workspace_agent_id"] is None


@pytest.mark.parametrize("version", ["2.28.11", "2.34.2"])
def test_silent_agent_reports_no_state(stepped_sim: Any, version: str) -> None:
    server, now = stepped_sim(version)
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.1)))
    task = api.create_ok("[sim:silent] [sim:work=1] quiet")
    active = api.wait(task, lambda t: t["status"] == "active")
    assert active["current_state"] is None
    now.advance(server.clock.span(3))
    assert api.get(task)["current_state"] is None
    api.wait(task, lambda t: len(api.logs(t).json()["logs"]) == 2)


def test_logs_of_a_task_that_is_not_active(sim: SimServer) -> None:
    api = SimApi(sim)
    task = api.create_ok()
    response = api.logs(task)
    if is_ga(sim):
        assert response.status_code == 200
        assert response.json() == {"logs": [], "snapshot": True}
    else:
        assert response.status_code == 400
        assert response.json()["message"] == "Task status must be active."


def test_pause_resume_and_snapshots(stepped_sim: Any) -> None:
    server, now = stepped_sim("2.34.2")
    api = SimApi(server, step=lambda: now.advance(server.clock.span(0.5)))
    task = api.create_ok("[sim:work=1] first job")
    api.wait_state(task, "idle")
    running = api.http.post(api.task_path(task, "/resume"))
    assert running.status_code == 409
    assert running.json() == {"message": "Task workspace is already running."}
    paused = api.http.post(api.task_path(task, "/pause"))
    assert paused.status_code == 202
    build = paused.json()["workspace_build"]
    assert build["transition"] == "stop" and build["reason"] == "task_manual_pause"
    assert build["build_number"] == 2
    assert api.get(task)["status"] == "unknown"  # while the stop job runs
    stopped = api.wait(task, lambda t: t["status"] == "paused")
    assert stopped["workspace_status"] == "stopped"
    assert state_of(stopped) == "idle"  # a stop keeps the last state
    logs = api.logs(task).json()
    assert logs["snapshot"] is True and "snapshot_at" in logs
    assert [e["type"] for e in logs["logs"]] == ["input", "output"]
    refused = api.send(task, "hello")
    assert refused.status_code == 409
    assert refused.json() == {
        "message": "Task is paused.",
        "detail": "Resume the task to send messages.",
    }
    patched = api.http.patch(api.task_path(task, "/input"), json={"input": "new prompt"})
    assert patched.status_code == 204
    assert api.get(task)["initial_prompt"] == "new prompt"
    resumed = api.http.post(api.task_path(task, "/resume"))
    assert resumed.status_code == 202
    assert resumed.json()["workspace_build"]["reason"] == "task_resume"
    starting = api.get(task)
    assert starting["status"] == "pending"
    # The old state is older than the new start build, and `pending` gets no synthesised one.
    assert starting["current_state"] is None
    assert api.logs(task).json()["snapshot"] is True
    back = api.wait_state(task, "idle")
    assert back["workspace_build_number"] == 3
    assert "snapshot" not in api.logs(task).json()


def test_patch_input_rules(make_sim: Any) -> None:
    api = SimApi(make_sim("2.34.2"))
    task = api.create_ok()
    not_paused = api.http.patch(api.task_path(task, "/input"), json={"input": "x"})
    assert not_paused.status_code == 409
    assert not_paused.json() == {"message": "Unable to update task input, task must be paused."}
    blank = api.http.patch(api.task_path(task, "/input"), json={"input": "  "})
    assert blank.status_code == 400 and blank.json() == {"message": "Task input is required."}


@pytest.mark.parametrize("version", ["2.28.11", "2.29.0", "2.31.0"])
def test_pause_routes_absent_before_2_31_1(make_sim: Any, version: str) -> None:
    api = SimApi(make_sim(version))
    task = api.create_ok()
    response = api.http.post(api.task_path(task, "/pause"))
    assert response.status_code == 404
    assert response.json() == {"message": "Route not found."}


def test_ga_serves_both_prefixes(make_sim: Any) -> None:
    api = SimApi(make_sim("2.30.0"))
    task = api.create_ok()
    assert api.http.get(f"/api/experimental/tasks/me/{task['id']}").status_code == 200
    assert api.http.get(f"/api/v2/tasks/me/{task['id']}").status_code == 200
    v228 = SimApi(make_sim("2.28.11"))
    assert v228.http.get("/api/v2/tasks").json() == {"message": "Route not found."}


@pytest.mark.parametrize(
    ("version", "enabled", "served"),
    [
        # CHATS-CONTRACT 7.1: CODER_ENABLE_AI_TASKS (off by default) on v2.37, removed in v2.38;
        # v2.36 may go either way; before it the routes are unconditional.
        ("2.38.0", None, False),
        ("2.37.0", None, False),
        ("2.37.0", True, True),
        ("2.37.2", False, False),
        ("2.36.1", False, False),
        ("2.36.1", None, True),
        ("2.35.0", None, True),
        ("2.34.2", True, True),
    ],
)
def test_task_routes_per_release(
    make_sim: Any, version: str, enabled: bool | None, served: bool
) -> None:
    server = make_sim(version, enable_ai_tasks=enabled)
    api = SimApi(server)
    assert api.http.get("/api/v2/buildinfo").json()["version"] == f"v{version}+sim"
    response = api.http.get("/api/v2/tasks")
    if served:
        assert response.status_code == 200
    else:
        assert response.status_code == 404
        assert response.json() == {"message": "Route not found."}
        assert api.http.get("/api/experimental/tasks").status_code == 404


def test_concurrent_creates_are_consistent(make_sim: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server = make_sim("2.34.2")
    api = SimApi(server)
    version_id = api.version_id()

    def create(i: int) -> int:
        body = {"template_version_id": version_id, "input": f"job {i}", "name": f"job-{i % 10}"}
        return api.http.post(f"{api.base}/tasks/me", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(create, range(30)))
    assert codes.count(201) == 10 and codes.count(409) == 20
    listed = api.http.get(f"{api.base}/tasks").json()
    assert listed["count"] == 10
    assert len({t["name"] for t in listed["tasks"]}) == 10
