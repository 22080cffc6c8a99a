"""The client's requests and answers per API generation, against a contract-shaped fake."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest

from runner.coder.client import CoderClient, ServerInfo
from runner.coder.config import Connection
from runner.errors import (
    AuthError,
    InvalidInputError,
    TaskNotFoundError,
    TransportError,
    UnsupportedServerError,
)
from runner.secrets import MASK

from .fakes import TOKEN, FakeCoder, json_response, make_task

V228 = "v2.28.11+898489b"
V234 = "v2.34.2+abc1234"
NIL = "00000000-0000-0000-0000-000000000000"
TASK_NOT_FOUND = "Resource not found or you do not have access to this resource"


def query_of(request: httpx.Request) -> str:
    values = parse_qs(request.url.query.decode(), keep_blank_values=True).get("q")
    assert values is not None, "the list request must always carry q"
    return values[0]


def body_of(request: httpx.Request) -> dict[str, object]:
    data = json.loads(request.content)
    assert isinstance(data, dict)
    return data


# -- deployment ------------------------------------------------------------------------------


def test_buildinfo_is_fetched_once_and_lazily() -> None:
    fake = FakeCoder(version=V234)
    client = fake.client()
    assert fake.calls() == []
    assert isinstance(client.server, ServerInfo)
    client.list_tasks()
    client.list_tasks()
    assert len(fake.calls("GET", "/api/v2/buildinfo")) == 1


@pytest.mark.parametrize(
    ("version", "why"),
    [
        ("v2.36.0", " (they are switched off on this server)"),
        ("v2.37.0+abc", " (they are switched off on this server)"),
        ("v2.38.1", ": they were removed in Coder v2.38 (the successor is Coder Agents)"),
    ],
)
def test_unrouted_task_list_from_v2_35_means_no_tasks(version: str, why: str) -> None:
    # Learnt from the task routes, not the version (CHATS-CONTRACT 7.1): one probe, then no
    # task request at all.
    fake = FakeCoder(version=version)
    fake.on("GET", "/api/v2/tasks", json_response(404, {"message": "Route not found."}))
    with pytest.raises(UnsupportedServerError) as caught:
        fake.client().list_tasks()
    shown = version.split("+")[0]
    assert (
        caught.value.message == f"this deployment (Coder {shown}) does not serve Coder Tasks{why}"
    )
    assert [r.url.path for r in fake.calls()] == ["/api/v2/buildinfo", "/api/v2/tasks"]


def test_v2_37_with_tasks_routed_serves_them() -> None:
    fake = FakeCoder(version="v2.37.0+abc")
    client = fake.client()
    assert client.notices() and "deprecated" in client.notices()[0]
    assert client.list_tasks() == []
    assert [r.url.path for r in fake.calls()] == ["/api/v2/buildinfo", *["/api/v2/tasks"] * 2]


def test_route_not_found_on_a_task_route_before_v2_35_means_switched_off() -> None:
    fake = FakeCoder(version=V234)
    fake.on("GET", "/api/v2/tasks", json_response(404, {"message": "Route not found."}))
    with pytest.raises(UnsupportedServerError) as caught:
        fake.client().list_tasks()
    assert caught.value.message == (
        "this deployment (Coder v2.34.2) does not serve Coder Tasks "
        "(they are switched off on this server)"
    )


def test_no_notices_before_v2_35() -> None:
    assert FakeCoder(version=V234).client().notices() == []


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, content=b"<html>hello</html>", headers={"Content-Type": "text/html"}),
        json_response(200, {"hello": "world"}),
        json_response(200, {"version": "latest"}),
        json_response(404, {"message": "Route not found."}),
    ],
)
def test_buildinfo_that_is_not_coder_is_a_clear_error(reply: httpx.Response) -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/buildinfo", reply)
    with pytest.raises(UnsupportedServerError, match="does not look like a Coder deployment"):
        _ = fake.client().server


def test_requests_carry_token_user_agent_and_extra_headers() -> None:
    fake = FakeCoder()
    connection = Connection(
        url="https://coder.example.com", token=TOKEN, headers=(("X-Extra", "1"),)
    )
    client = CoderClient(connection, transport=httpx.MockTransport(fake.handler))
    client.list_tasks()
    request = fake.calls("GET", "/api/v2/tasks")[0]
    assert request.headers["Coder-Session-Token"] == TOKEN
    assert request.headers["User-Agent"].startswith("coder-tasks/")
    assert request.headers["X-Extra"] == "1"


def test_wrong_token_gives_auth_error_with_hint() -> None:
    fake = FakeCoder()
    fake.on(
        "GET",
        "/api/v2/tasks",
        json_response(
            401,
            {
                "message": "You are signed out or your session has expired. "
                "Please sign in again to continue.",
                "detail": "API key secret is invalid.",
            },
        ),
    )
    with pytest.raises(AuthError) as caught:
        fake.client().list_tasks()
    assert "Try logging in using 'coder login'." in caught.value.message


def test_missing_token_adds_a_hint_on_401() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/tasks", json_response(401, {"message": "You are signed out."}))
    client = CoderClient(
        Connection(url="https://coder.example.com", token=""),
        transport=httpx.MockTransport(fake.handler),
    )
    with pytest.raises(AuthError) as caught:
        client.list_tasks()
    assert any("no session token" in line for line in caught.value.details)
    assert "Coder-Session-Token" not in fake.calls()[0].headers


# -- list -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, 'owner:"me"'),
        ({"status": "active"}, 'owner:"me" status:"active"'),
        ({"owner": None}, ""),
        ({"owner": None, "status": "paused"}, 'status:"paused"'),
        ({"owner": "bob", "organization": "coder"}, 'owner:"bob" organization:"coder"'),
    ],
)
def test_list_builds_q_like_the_sdk(kwargs: dict[str, str | None], expected: str) -> None:
    fake = FakeCoder(version=V228)
    fake.client().list_tasks(**kwargs)  # type: ignore[arg-type]
    assert query_of(fake.calls("GET", "/api/experimental/tasks")[0]) == expected


def test_list_returns_the_tasks_array() -> None:
    fake = FakeCoder(tasks=[make_task("b"), make_task("a")])
    assert [t.name for t in fake.client().list_tasks()] == ["b", "a"]


def test_list_accepts_null_tasks() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/tasks", json_response(200, {"tasks": None, "count": 0}))
    assert fake.client().list_tasks() == []


# -- resolve ---------------------------------------------------------------------------------


def test_resolve_uuid_gets_me_path_on_both_generations() -> None:
    for version, base in ((V228, "/api/experimental/tasks"), (V234, "/api/v2/tasks")):
        task = make_task("auth", owner="bob")
        fake = FakeCoder(version=version, tasks=[task])
        found = fake.client().resolve_task(f"  {task['id']}  ")
        assert found.id == task["id"]
        assert [r.url.path for r in fake.calls()][1:] == [f"{base}/me/{task['id']}"]


def test_resolve_name_on_v2_28_lists_and_matches_case_sensitively() -> None:
    fake = FakeCoder(version=V228, tasks=[make_task("Auth"), make_task("auth")])
    found = fake.client().resolve_task("auth")
    assert found.name == "auth"
    listing = fake.calls("GET", "/api/experimental/tasks")
    assert len(listing) == 1
    assert query_of(listing[0]) == 'owner:"me"'
    with pytest.raises(TaskNotFoundError) as caught:
        fake.client().resolve_task("AUTH")
    assert caught.value.message == (f'task "AUTH" not found for owner "me": {TASK_NOT_FOUND}')


def test_resolve_owner_slash_name_on_v2_28() -> None:
    fake = FakeCoder(version=V228, tasks=[make_task("auth", owner="bob")])
    fake.client().resolve_task("bob/auth")
    assert query_of(fake.calls("GET", "/api/experimental/tasks")[0]) == 'owner:"bob"'


def test_resolve_owner_slash_uuid_matches_id_on_v2_28() -> None:
    task = make_task("auth", owner="bob")
    fake = FakeCoder(version=V228, tasks=[task])
    assert fake.client().resolve_task(f"bob/{task['id']}").id == task["id"]


def test_resolve_name_on_ga_gets_owner_and_name() -> None:
    task = make_task("auth", owner="bob")
    fake = FakeCoder(version=V234, tasks=[task])
    assert fake.client().resolve_task("bob/AUTH").id == task["id"]
    assert fake.calls()[-1].url.path == "/api/v2/tasks/bob/AUTH"
    assert fake.calls("GET", "/api/v2/tasks") == []


def test_resolve_unknown_name_on_ga() -> None:
    fake = FakeCoder(version=V234)
    with pytest.raises(TaskNotFoundError) as caught:
        fake.client().resolve_task("nope")
    assert caught.value.message == f'task "nope" not found for owner "me": {TASK_NOT_FOUND}'


def test_resolve_unknown_uuid() -> None:
    fake = FakeCoder(version=V234)
    with pytest.raises(TaskNotFoundError, match=TASK_NOT_FOUND):
        fake.client().resolve_task(NIL)


@pytest.mark.parametrize("bad", ["a/b/c", "/name", "owner/", ""])
def test_resolve_rejects_malformed_identifiers_without_requests(bad: str) -> None:
    fake = FakeCoder()
    with pytest.raises(InvalidInputError) as caught:
        fake.client().resolve_task(bad)
    assert caught.value.message == f'invalid task identifier: "{bad}"'
    assert [r.url.path for r in fake.calls()] in ([], ["/api/v2/buildinfo"])


# -- create, delete, send, logs, pause ------------------------------------------------------


def test_create_on_v2_28_omits_display_name_and_nil_preset() -> None:
    fake = FakeCoder(version=V228)
    fake.on("POST", "/api/experimental/tasks/me", json_response(201, make_task("auth")))
    fake.client().create_task(
        owner="me",
        template_version_id="d3e4",
        prompt="Add auth",
        preset_id=NIL,
        display_name="Auth",
    )
    assert body_of(fake.calls("POST")[0]) == {"template_version_id": "d3e4", "input": "Add auth"}


def test_create_on_ga_sends_every_set_field_to_the_owner_path() -> None:
    fake = FakeCoder(version=V234)
    fake.on("POST", "/api/v2/tasks/bob", json_response(201, make_task("auth", owner="bob")))
    task = fake.client().create_task(
        owner="bob",
        template_version_id="d3e4",
        prompt="Add auth",
        name="auth",
        preset_id="p-1",
        display_name="Auth",
    )
    assert task.owner_name == "bob"
    assert body_of(fake.calls("POST")[0]) == {
        "template_version_id": "d3e4",
        "template_version_preset_id": "p-1",
        "input": "Add auth",
        "name": "auth",
        "display_name": "Auth",
    }


def test_delete_uses_owner_name_and_id() -> None:
    task = make_task("auth", owner="bob")
    fake = FakeCoder(version=V228, tasks=[task])
    path = f"/api/experimental/tasks/bob/{task['id']}"
    fake.on("DELETE", path, httpx.Response(202))
    client = fake.client()
    client.delete_task(client.resolve_task("bob/auth"))
    assert len(fake.calls("DELETE", path)) == 1


def test_send_and_logs_address_the_task_by_id_under_me() -> None:
    task = make_task("auth", owner="bob")
    fake = FakeCoder(version=V234, tasks=[task])
    send = f"/api/v2/tasks/me/{task['id']}/send"
    logs = f"/api/v2/tasks/me/{task['id']}/logs"
    fake.on("POST", send, httpx.Response(204))
    entries = [
        {"id": 0, "content": "Add auth", "type": "input", "time": "2025-09-25T10:46:42Z"},
        {"id": 1, "content": "Done", "type": "output", "time": "2025-09-25T10:46:50Z"},
    ]
    fake.on("GET", logs, json_response(200, {"logs": entries}))
    client = fake.client()
    resolved = client.resolve_task("bob/auth")
    client.send_input(resolved, "more tests")
    result = client.get_logs(resolved)
    assert body_of(fake.calls("POST", send)[0]) == {"input": "more tests"}
    assert [(e.id, e.type, e.content) for e in result.entries] == [
        (0, "input", "Add auth"),
        (1, "output", "Done"),
    ]
    assert result.snapshot is False


def test_logs_snapshot_fields() -> None:
    task = make_task("auth")
    fake = FakeCoder(version=V234, tasks=[task])
    fake.on(
        "GET",
        f"/api/v2/tasks/me/{task['id']}/logs",
        json_response(200, {"logs": [], "snapshot": True, "snapshot_at": "2026-01-01T00:00:00Z"}),
    )
    client = fake.client()
    logs = client.get_logs(client.get_task(str(task["id"])))
    assert logs.snapshot is True
    assert logs.snapshot_at is not None


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pause_and_resume_post_on_v2_31_1(action: str) -> None:
    task = make_task("auth")
    fake = FakeCoder(version="v2.31.1", tasks=[task])
    # As Coder's CLI does: by the task's owner, not `me`.
    path = f"/api/v2/tasks/alice/{task['id']}/{action}"
    fake.on("POST", path, json_response(202, {"workspace_build": {}}))
    client = fake.client()
    getattr(client, f"{action}_task")(client.get_task(str(task["id"])))
    assert len(fake.calls("POST", path)) == 1


@pytest.mark.parametrize("version", [V228, "v2.31.0"])
def test_pause_needs_v2_31_1(version: str) -> None:
    task = make_task("auth")
    fake = FakeCoder(version=version, tasks=[task])
    client = fake.client()
    resolved = client.get_task(str(task["id"]))
    with pytest.raises(UnsupportedServerError, match=r"pause needs Coder v2\.31\.1 or later"):
        client.pause_task(resolved)
    with pytest.raises(UnsupportedServerError, match=r"resume needs Coder v2\.31\.1 or later"):
        client.resume_task(resolved)
    assert fake.calls("POST") == []


def test_templates_organizations_and_presets() -> None:
    fake = FakeCoder()
    org = {"id": "o-1", "name": "coder"}
    tpl = {"id": "t-1", "name": "claude-code", "organization_id": "o-1", "active_version_id": "v-1"}
    fake.on("GET", "/api/v2/users/me/organizations", json_response(200, [org]))
    fake.on("GET", "/api/v2/templates", json_response(200, [tpl]))
    fake.on("GET", "/api/v2/organizations/coder/templates/claude-code", json_response(200, tpl))
    fake.on(
        "GET",
        "/api/v2/organizations/coder/templates/claude-code/versions/v2",
        json_response(200, {"id": "v-2", "name": "v2", "template_id": "t-1"}),
    )
    fake.on(
        "GET",
        "/api/v2/templateversions/v-2/presets",
        json_response(200, [{"ID": "p-1", "Name": "Large", "Default": True, "Parameters": []}]),
    )
    client = fake.client()
    assert [o.name for o in client.my_organizations()] == ["coder"]
    assert [t.active_version_id for t in client.list_templates("o-1", ai_only=True)] == ["v-1"]
    assert query_of(fake.calls("GET", "/api/v2/templates")[0]) == (
        'organization:"o-1" has-ai-task:true'
    )
    assert client.get_template("coder", "claude-code").id == "t-1"
    assert client.get_template_version("coder", "claude-code", "v2").id == "v-2"
    (preset,) = client.presets("v-2")
    assert (preset.id, preset.name, preset.default) == ("p-1", "Large", True)


def test_null_presets_mean_none() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/templateversions/v-2/presets", json_response(200, None))
    assert fake.client().presets("v-2") == []


# -- redaction -------------------------------------------------------------------------------


def test_debug_lines_never_show_the_token() -> None:
    fake = FakeCoder(tasks=[make_task("auth")])
    fake.on("GET", "/api/v2/tasks", json_response(503, {"message": "x"}))
    lines: list[str] = []
    connection = Connection(
        url="https://coder.example.com",
        token=TOKEN,
        headers=(("Authorization", "Bearer proxy-secret-42"), ("X-Plain", "visible")),
    )
    client = CoderClient(
        connection,
        transport=httpx.MockTransport(fake.handler),
        on_debug=lines.append,
        sleep=lambda s: None,
        jitter=lambda: 1.0,
    )
    client.list_tasks(status="active")
    text = "\n".join(lines)
    assert TOKEN not in text
    assert "proxy-secret-42" not in text
    assert MASK in text
    assert "X-Plain: visible".lower() in text.lower()
    assert 'GET /api/v2/tasks?q=owner:"me" status:"active" -> 503 in' in text
    assert "retrying in 0.4 s after 503" in text
    assert 'GET /api/v2/tasks?q=owner:"me" status:"active" -> 200 in' in text


def test_error_messages_never_show_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeCoder()
    # A server echoing the token back in an error must not leak it through our message.
    fake.on(
        "GET",
        "/api/v2/tasks",
        json_response(400, {"message": f"bad token {TOKEN}", "detail": TOKEN}),
    )
    client = fake.client()
    from runner.cli.main import _render_error
    from runner.errors import ApiError

    with pytest.raises(ApiError) as caught:
        client.list_tasks()
    # The server's text is kept (it explains the error) with the token masked where the body is
    # parsed, so no event line or report can carry it; the CLI edge masks once more.
    raw = caught.value.message + "\n".join(caught.value.details)
    assert "bad token ********" in raw and TOKEN not in raw
    _render_error(caught.value)
    shown = capsys.readouterr().err
    assert "bad token ********" in shown
    assert TOKEN not in shown


def test_transport_error_names_url_not_token() -> None:
    fake = FakeCoder()
    fake.on("GET", "/api/v2/buildinfo", httpx.ConnectError(f"refused {TOKEN}"))
    with pytest.raises(TransportError) as caught:
        _ = fake.client(max_retries=0).server
    assert "https://coder.example.com" in caught.value.message
    assert TOKEN not in caught.value.message
