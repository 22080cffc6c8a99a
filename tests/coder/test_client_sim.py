"""The client against the simulated deployment over real HTTP on loopback, both generations."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest

from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.coder.models import Task
from runner.errors import (
    AgentBusyError,
    AuthError,
    RateLimitedError,
    ServerError,
    TaskNotFoundError,
    TransportError,
    UncertainOutcomeError,
    UnsupportedServerError,
)

from .simwait import wait_idle, wait_status


def connect(server: Any, *, token: str | None = None, **kwargs: Any) -> CoderClient:
    """A client for a simulated deployment; retry waits are recorded in `client.slept`."""
    slept: list[float] = []
    kwargs.setdefault("sleep", slept.append)
    connection = Connection(url=server.url, token=server.token if token is None else token)
    client = CoderClient(connection, **kwargs)
    client.slept = slept  # type: ignore[attr-defined]
    return client


def create(client: CoderClient, prompt: str = "Add auth [sim:work=1]", **kwargs: Any) -> Task:
    version = client.get_template_version("coder", "claude-code", "v2")
    return client.create_task(owner="me", template_version_id=version.id, prompt=prompt, **kwargs)


def count(server: Any, method: str, path_part: str) -> int:
    return sum(1 for r in server.requests if r["method"] == method and path_part in r["path"])


def test_full_flow_on_both_generations(sim: Any) -> None:
    client = connect(sim)
    created = create(client, name="auth", display_name="Auth work")
    assert created.status in ("pending", "initializing")
    if client.server.generation == "ga":
        assert created.display_name == "Auth work"
    by_name = client.resolve_task("auth")
    by_owner = client.resolve_task("admin/auth")
    by_id = client.resolve_task(created.id)
    assert by_name.id == by_owner.id == by_id.id == created.id
    idle = wait_idle(client, created)
    client.send_input(idle, "Please add tests [sim:work=1]")
    logs = client.get_logs(idle)
    assert [e.type for e in logs.entries][:3] == ["input", "output", "input"]
    assert logs.entries[2].content == "Please add tests [sim:work=1]"
    client.delete_task(idle)
    assert all(t.id != created.id for t in client.list_tasks(owner=None))
    with pytest.raises(TaskNotFoundError, match='task "auth" not found for owner "me"'):
        client.resolve_task("auth")


def test_task_routes_per_generation(sim: Any) -> None:
    client = connect(sim)
    create(client, name="routes")
    client.resolve_task("routes")
    base = client.server.task_base
    paths = [r["path"] for r in sim.requests if r["path"].startswith(base)]
    assert paths[0] == f"{base}/me"
    if client.server.generation == "experimental":
        assert paths[1] == base  # names are resolved by listing
    else:
        assert paths[1] == f"{base}/me/routes"


def test_busy_agent_send_is_agent_busy_error(sim: Any) -> None:
    client = connect(sim)
    task = wait_idle(client, create(client, name="busy"))
    client.send_input(task, "long work [sim:work=600]")
    deadline = time.monotonic() + 10
    while client.get_task(task.id).state != "working":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    with pytest.raises(AgentBusyError) as caught:
        client.send_input(task, "more")
    assert caught.value.status == (409 if client.server.busy_is_conflict else 502)
    assert count(sim, "POST", "/send") == 2  # never repeated


def test_unknown_task_and_invalid_identifier(sim: Any) -> None:
    client = connect(sim)
    with pytest.raises(TaskNotFoundError):
        client.resolve_task("no-such-task")
    with pytest.raises(TaskNotFoundError):
        client.resolve_task("00000000-0000-0000-0000-000000000000")
    from runner.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match='invalid task identifier: "a/b/c"'):
        client.resolve_task("a/b/c")


def test_wrong_token_is_auth_error(sim: Any) -> None:
    client = connect(sim, token="bogus0000-notarealsecret")
    with pytest.raises(AuthError, match="Try logging in using 'coder login'"):
        client.list_tasks()


def test_rate_limit_is_paced_not_hit(make_sim: Any) -> None:
    server = make_sim("2.34.2", rate_limit=3)
    lines: list[str] = []
    # Real sleeping: the simulator's one-minute window is scaled down to about a second.
    client = connect(server, sleep=time.sleep, on_debug=lines.append)
    for _ in range(5):
        client.list_tasks()
    assert not any(r["status"] == 429 for r in server.requests)
    assert any("to stay within the rate limit" in line for line in lines)
    assert count(server, "GET", "/api/v2/tasks") == 5


def spend_budget(server: Any, path: str) -> None:
    """Another client of the same user uses up the budget this client knows nothing about."""
    with httpx.Client(
        base_url=server.url, headers={"Coder-Session-Token": server.token}, timeout=10
    ) as other:
        while other.get(path).status_code != 429:
            pass


def test_a_429_waits_for_the_window_end_not_retry_after(make_sim: Any) -> None:
    server = make_sim("2.34.2", rate_limit=3)
    client = connect(server, sleep=time.sleep)
    _ = client.server
    spend_budget(server, "/api/v2/tasks")
    limited = [r for r in server.requests if r["status"] == 429]
    client.list_tasks()
    assert len([r for r in server.requests if r["status"] == 429]) == len(limited) + 1
    assert count(server, "GET", "/api/v2/tasks") >= len(limited) + 4


def test_rate_limit_beyond_the_budget_is_raised(make_sim: Any) -> None:
    server = make_sim("2.34.2", rate_limit=1)
    client = connect(server, max_rate_limit_wait=0.0)
    _ = client.server
    spend_budget(server, "/api/v2/tasks")
    with pytest.raises(RateLimitedError):
        client.list_tasks()


def test_read_survives_faults_before_and_after(make_sim: Any) -> None:
    server = make_sim("2.34.2")
    client = connect(server)
    _ = client.server
    server.faults.add(method="GET", path="/api/v2/tasks$", when="before", status=503)
    server.faults.add(method="GET", path="/api/v2/tasks$", when="before", status=0)
    server.faults.add(method="GET", path="/api/v2/tasks$", when="after")
    assert client.list_tasks() == []
    assert count(server, "GET", "/api/v2/tasks") == 4
    assert len(client.slept) == 3  # type: ignore[attr-defined]


def test_create_whose_response_is_lost_is_uncertain_and_happened(sim: Any) -> None:
    client = connect(sim)
    version = client.get_template_version("coder", "claude-code", "v2")
    sim.faults.add(method="POST", path="/tasks/me$", when="after")
    with pytest.raises(UncertainOutcomeError, match="may have done it"):
        client.create_task(owner="me", template_version_id=version.id, prompt="x", name="lost")
    assert count(sim, "POST", "/tasks/me") == 1
    assert client.resolve_task("lost").name == "lost"  # it did happen: the caller can check


def test_create_that_fails_before_is_raised_not_repeated(sim: Any) -> None:
    client = connect(sim)
    version = client.get_template_version("coder", "claude-code", "v2")
    sim.faults.add(method="POST", path="/tasks/me$", when="before", status=503)
    with pytest.raises(ServerError):
        client.create_task(owner="me", template_version_id=version.id, prompt="x", name="nope")
    assert count(sim, "POST", "/tasks/me") == 1
    assert client.list_tasks() == []


def test_send_whose_response_is_lost_is_uncertain(sim: Any) -> None:
    client = connect(sim)
    task = wait_idle(client, create(client, name="sendlost"))
    sim.faults.add(method="POST", path="/send$", when="after")
    with pytest.raises(UncertainOutcomeError):
        client.send_input(task, "follow-up [sim:work=1]")
    assert count(sim, "POST", "/send") == 1
    contents = [e.content for e in client.get_logs(task).entries]
    assert "follow-up [sim:work=1]" in contents


def test_delete_whose_response_is_lost_counts_as_done(sim: Any) -> None:
    client = connect(sim)
    task = wait_idle(client, create(client, name="dellost"))
    sim.faults.add(method="DELETE", path="/dellost$|/" + task.id + "$", when="after")
    client.delete_task(task)
    assert count(sim, "DELETE", task.id) == 2
    assert client.list_tasks() == []


def test_pause_and_resume_where_supported(sim: Any) -> None:
    client = connect(sim)
    task = wait_idle(client, create(client, name="pausing"))
    if not client.server.supports_pause:
        with pytest.raises(UnsupportedServerError, match=r"pause needs Coder v2\.31\.1"):
            client.pause_task(task)
        return
    client.pause_task(task)
    wait_status(client, task, "paused")
    assert client.get_logs(task).snapshot is True
    client.resume_task(task)
    wait_idle(client, task)


def test_v2_38_does_not_serve_tasks(make_sim: Any) -> None:
    client = connect(make_sim("2.38.0"))
    with pytest.raises(UnsupportedServerError) as caught:
        client.list_tasks()
    assert caught.value.message == (
        "this deployment (Coder v2.38.0) does not serve Coder Tasks: they were removed in "
        "Coder v2.38 (the successor is Coder Agents)"
    )


@pytest.mark.parametrize(
    ("version", "enable_ai_tasks"), [("2.36.0", False), ("2.37.0", None), ("2.37.1", False)]
)
def test_tasks_switched_off(make_sim: Any, version: str, enable_ai_tasks: bool | None) -> None:
    client = connect(make_sim(version, enable_ai_tasks=enable_ai_tasks))
    for call in (client.notices, client.list_tasks, lambda: client.resolve_task("anything")):
        with pytest.raises(UnsupportedServerError, match=r"switched off on this server"):
            call()


@pytest.mark.parametrize(
    ("version", "enable_ai_tasks"), [("2.35.0", None), ("2.36.0", None), ("2.37.0", True)]
)
def test_tasks_on_work_with_a_notice(
    make_sim: Any, version: str, enable_ai_tasks: bool | None
) -> None:
    client = connect(make_sim(version, enable_ai_tasks=enable_ai_tasks))
    (notice,) = client.notices()
    assert notice.startswith("Coder Tasks are deprecated from Coder v2.35 and removed in v2.38")
    assert client.list_tasks() == []


def test_stopped_server_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CoderClient(
        Connection(url=f"http://127.0.0.1:{port}", token="t0ken-stopped"),
        sleep=lambda s: None,
    )
    with pytest.raises(TransportError) as caught:
        client.list_tasks()
    assert caught.value.message == f"cannot reach http://127.0.0.1:{port}: connection refused"
