"""The Chats client against the simulator over loopback HTTP, on every Chats generation.

A recording transport (the client's own test seam, forwarding to real HTTP) keeps every request
the client sent; each body validates against the request definitions of `chats-swagger-head.json`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from chats_schema import chats_validator, load_chats_swagger
from conftest import check_exchanges
from contract_schema import contract_errors
from stepped_time import SteppedTime

from runner.coder.chat_models import Chat
from runner.coder.chat_server import EXPERIMENTAL_PREFIX, V2_PREFIX
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection
from runner.coder.errors import is_queue_full
from runner.errors import (
    ApiError,
    AuthError,
    ChatsUnavailableError,
    RateLimitedError,
    UncertainOutcomeError,
    UnsupportedServerError,
)
from runner.sim.server import SimServer

TIME_SCALE = 0.05
#: Request definitions per (method, route under the prefix).
REQUESTS = {
    ("POST", ""): "codersdk.CreateChatRequest",
    ("POST", "/messages"): "codersdk.CreateChatMessageRequest",
    ("PATCH", ""): "codersdk.UpdateChatRequest",
}


class Recorder(httpx.HTTPTransport):
    """Forwards to real HTTP and keeps (method, path, body) of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        return super().handle_request(request)


@pytest.fixture
def start() -> Iterator[Any]:
    servers: list[SimServer] = []

    def factory(
        version: str, *experiments: str, now: SteppedTime | None = None
    ) -> tuple[SimServer, ChatsClient, Recorder]:
        server = SimServer(
            coder_version=version, experiments=experiments, time_scale=TIME_SCALE, now=now
        )
        server.exchanges = []  # judged by the contract net afterwards
        server.start()
        servers.append(server)
        recorder = Recorder()
        client = ChatsClient(
            Connection(url=server.url, token=server.token, simulated=True),
            transport=recorder,
            max_rate_limit_wait=1.0,
        )
        return server, client, recorder

    yield factory
    for server in servers:
        server.stop()
    for server in servers:
        check_exchanges(server)


def check_requests(reference: Path, recorder: Recorder, prefix: str, version: tuple[int, int]):
    swagger = load_chats_swagger(reference)
    checked = 0
    for method, path, body in recorder.sent:
        if not path.startswith(prefix) or body is None:
            continue
        rest = path[len(prefix) :]
        route = rest[rest.index("/", 1) :] if rest.count("/") > 1 else ""
        definition = REQUESTS[(method, route)]
        validator = chats_validator(swagger, definition, version=version, response=False)
        errors = contract_errors(validator, body)
        assert not errors, f"{method} {path} {definition}: {errors}"
        checked += 1
    return checked


def wait_idle(client: ChatsClient, chat: Chat, timeout: float = 20) -> Chat:
    deadline = time.monotonic() + timeout
    while True:
        current = client.get_chat(chat.id)
        if current.idle:
            return current
        assert time.monotonic() < deadline, f"chat stayed {current.status}"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("version", "experiments", "prefix"),
    [
        ("2.32.1", ("agents",), EXPERIMENTAL_PREFIX),
        ("2.33.0", ("agents",), EXPERIMENTAL_PREFIX),
        ("2.34.2", (), EXPERIMENTAL_PREFIX),
        ("2.36.0", (), EXPERIMENTAL_PREFIX),
        ("2.37.0", (), V2_PREFIX),
        ("2.38.0", (), V2_PREFIX),
        ("2.39.0", (), V2_PREFIX),
    ],
)
def test_client_drives_a_chat_on_every_generation(
    reference: Path, start: Any, version: str, experiments: tuple[str, ...], prefix: str
) -> None:
    _, client, recorder = start(version, *experiments)
    assert client.server.prefix == prefix
    key = (client.server.major, client.server.minor)
    labels = {"tasks/batch": "nightly", "tasks/item": "auth fix: #1"}
    chat = client.create_chat(
        "Fix auth [sim:pr] [sim:work=2]", labels=labels, title="nightly: auth"
    )
    assert chat.labels == labels
    assert chat.status == ("running" if key >= (2, 35) else "pending")
    # `title` is taken from v2.39 (CHATS-CONTRACT 7.5); before, the prompt names the chat.
    assert chat.title == ("nightly: auth" if key >= (2, 39) else "Fix auth [sim:pr] [sim:work=2]")
    # Chats carry their organization from v2.33 (7.1); v2.32's are read without one.
    assert (chat.organization_id is not None) == (key >= (2, 33))
    done = wait_idle(client, chat)
    assert done.status == "waiting"
    assert done.diff_status is not None and done.diff_status.url
    assert done.diff_status.state == "open"

    sent = client.send_message(chat.id, "Also add tests [sim:work=40]")
    assert not sent.queued and sent.message_id
    queued = client.send_message(chat.id, "And docs [sim:work=1]")
    assert queued.queued and queued.queued_id
    if key >= (2, 34):  # `GET …/prompts` exists from v2.34 (7.5)
        # A queued message is no prompt yet.
        assert [p.text for p in client.prompts(chat.id)] == [
            "Also add tests [sim:work=40]",
            "Fix auth [sim:pr] [sim:work=2]",
        ]
    else:
        with pytest.raises(UnsupportedServerError, match=r"needs Coder v2\.34"):
            client.prompts(chat.id)
    client.interrupt(chat.id)
    wait_idle(client, chat)
    history = client.history(chat.id)
    users = [m.text for m in history if m.role == "user"]
    assert users == [
        "Fix auth [sim:pr] [sim:work=2]",
        "Also add tests [sim:work=40]",
        "And docs [sim:work=1]",
    ]
    assert [m.id for m in history] == sorted(m.id for m in history)
    assert any(p.type == "tool-call" for m in history for p in m.parts)

    failed = client.create_chat("Break [sim:error] [sim:work=1]", labels={"tasks/batch": "other"})
    failed = wait_idle(client, failed)
    assert failed.status == "error"
    assert failed.last_error is not None and "Break" in failed.last_error.message
    assert [c.id for c in client.list_chats(labels={"tasks/batch": "nightly"})] == [chat.id]
    client.archive(chat.id)
    assert client.list_chats(labels={"tasks/batch": "nightly"}) == []
    assert [c.id for c in client.list_chats(labels=labels, archived=True)] == [chat.id]
    assert check_requests(reference, recorder, prefix, key) >= 5


def test_listing_follows_every_page_and_filters_by_label(start: Any) -> None:
    # Time stands still: no chat moves in the list (ordered by update) while it is paged.
    _, client, _ = start("2.38.0", now=SteppedTime())
    mine = {client.create_chat(f"Task {i} [sim:work=1]", labels={"b": "one"}).id for i in range(57)}
    client.create_chat("Unrelated [sim:work=1]", labels={"b": "two"})
    client.create_chat("Unlabelled [sim:work=1]")
    found = client.list_chats(labels={"b": "one"})
    assert {c.id for c in found} == mine and len(found) == 57
    assert len(client.list_chats(labels={"b": "one"}, page_size=10)) == 57
    assert len(client.list_chats()) == 59


class Meddler(Recorder):
    """After the first list page, a follow-up moves the oldest chat to the head of the list."""

    def __init__(self) -> None:
        super().__init__()
        self.meddle: Any = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/chats") and self.meddle is not None:
            meddle, self.meddle = self.meddle, None
            meddle()
        return response


def test_a_chat_updated_while_paging_is_not_missed(start: Any) -> None:
    server, _, _ = start("2.38.0")
    meddler = Meddler()
    connection = Connection(url=server.url, token=server.token, simulated=True)
    client = ChatsClient(connection, transport=meddler)
    ids = [client.create_chat(f"Chat {i} [sim:work=0]", labels={"b": "x"}).id for i in range(25)]
    oldest = ids[0]
    side = httpx.Client(base_url=server.url, headers={"Coder-Session-Token": server.token})

    def follow_up() -> None:
        response = side.post(
            f"/api/v2/chats/{oldest}/messages",
            json={"content": [{"type": "text", "text": "bump [sim:work=0]"}]},
        )
        assert response.status_code == 200

    meddler.meddle = follow_up
    found = client.list_chats(labels={"b": "x"}, page_size=10)
    assert sorted(c.id for c in found) == sorted(ids)
    assert found[0].id == oldest  # newest update first


def test_full_queue_is_recognised(start: Any) -> None:
    _, client, _ = start("2.37.0")
    chat = client.create_chat("Long [sim:work=1000]")
    for i in range(20):
        assert client.send_message(chat.id, f"more {i}").queued
    with pytest.raises(RateLimitedError) as caught:
        client.send_message(chat.id, "one too many")
    assert is_queue_full(caught.value)


def test_archiving_a_busy_chat_is_refused_from_v2_35(start: Any) -> None:
    _, client, _ = start("2.36.0")
    chat = client.create_chat("Busy [sim:work=1000]")
    with pytest.raises(ApiError) as caught:
        client.archive(chat.id)
    assert caught.value.status == 409
    assert caught.value.api_message.startswith("Cannot archive an active chat.")
    assert client.interrupt(chat.id).status == "interrupting"
    wait_idle(client, chat)
    client.archive(chat.id)


@pytest.mark.parametrize(
    ("version", "experiments", "needle"),
    [
        ("2.33.0", (), "only with the 'agents' experiment"),
        ("2.31.1", (), "has no Chats API (Coder Agents)"),
    ],
)
def test_servers_without_chats_get_one_plain_line(
    start: Any, version: str, experiments: tuple[str, ...], needle: str
) -> None:
    _, client, recorder = start(version, *experiments)
    with pytest.raises(ChatsUnavailableError) as caught:
        client.list_chats()
    message = str(caught.value)
    assert needle in message and "\n" not in message and not caught.value.details
    assert all(method == "GET" for method, _, _ in recorder.sent)


def test_owner_id_needs_v2_38(start: Any) -> None:
    """CHATS-CONTRACT 7.5: `owner_id` on create is v2.38's (PR #29581)."""
    server, client, recorder = start("2.37.0")
    other = server.directory.find_user("alice")
    assert other is not None
    with pytest.raises(UnsupportedServerError, match=r"needs Coder v2\.38"):
        client.create_chat("For alice", owner_id=other.id)
    assert all(method == "GET" for method, _, _ in recorder.sent)


def test_owner_id_creates_for_another_user_on_v2_38(start: Any) -> None:
    server, client, _ = start("2.38.0")
    other = server.directory.find_user("alice")
    assert other is not None
    chat = client.create_chat("For alice [sim:work=1]", owner_id=other.id)
    assert chat.owner_id == other.id


def test_pinned_workspace_binds_a_chat_and_is_deleted_by_its_creator(
    reference: Path, start: Any
) -> None:
    server, client, recorder = start("2.37.0")
    template = next(t for t in server.directory.templates if t.name == "claude-code")
    version = template.versions[0]  # not the active one: pinned on purpose
    preset = version.presets[1]
    workspace = client.create_workspace("nightly-auth", version.id, preset_id=preset.id)
    assert (workspace.template_version_id, workspace.preset_id) == (version.id, preset.id)
    chat = client.create_chat("Work here [sim:work=1]", workspace_id=workspace.id)
    assert chat.workspace_id == workspace.id
    deadline = time.monotonic() + 20
    while client.get_workspace(workspace.id).raw["latest_build"]["job"]["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    client.delete_workspace(workspace.id)
    stored = next(w for w in server.store.workspaces if w.id == workspace.id)
    assert [b.transition for b in stored.builds] == ["start", "delete"]
    swagger = load_chats_swagger(reference)
    bodies = {
        ("POST", "/api/v2/users/me/workspaces"): "codersdk.CreateWorkspaceRequest",
        (
            "POST",
            f"/api/v2/workspaces/{workspace.id}/builds",
        ): "codersdk.CreateWorkspaceBuildRequest",
    }
    checked = 0
    for method, path, body in recorder.sent:
        definition = bodies.get((method, path))
        if definition is None:
            continue
        validator = chats_validator(swagger, definition, version=(2, 37), response=False)
        assert not contract_errors(validator, body), body
        checked += 1
    assert checked == 2


def test_a_lost_create_is_found_by_labels_and_not_repeated(start: Any) -> None:
    """The simulator's faults and rate limit apply to chats as they do to tasks."""
    server, client, recorder = start("2.38.0")
    server.faults.add(method="POST", path=r"^/api/v2/chats$", when="after")
    labels = {"tasks/batch": "lossy", "tasks/item": "one"}
    with pytest.raises(UncertainOutcomeError):
        client.create_chat("Lost response [sim:work=1]", labels=labels)
    assert [m for m, p, _ in recorder.sent if p == "/api/v2/chats"].count("POST") == 1
    adopted = client.list_chats(labels=labels)
    assert len(adopted) == 1 and adopted[0].labels == labels


def test_rate_limit_is_paced_not_hit(start: Any) -> None:
    server = SimServer(coder_version="2.37.0", time_scale=TIME_SCALE, rate_limit=3)
    with server:
        client = ChatsClient(Connection(url=server.url, token=server.token, simulated=True))
        chat = client.create_chat("Limited [sim:work=1]")
        for _ in range(4):
            assert client.get_chat(chat.id).id == chat.id
        # The shared transport paces on the rate-limit headers: the server refuses nothing.
        assert not any(r["status"] == 429 for r in server.requests)


def test_no_token_says_how_to_configure_one(start: Any) -> None:
    server, _, _ = start("2.38.0")
    client = ChatsClient(Connection(url=server.url, token=""))
    with pytest.raises(AuthError) as caught:
        client.list_chats()
    assert any(
        "no session token found" in line and "CODER_SESSION_TOKEN" in line
        for line in caught.value.details
    )


@pytest.mark.parametrize("version", ["2.32.1", "2.33.0"])
def test_sub_agent_chats_are_not_listed_as_chats(start: Any, version: str) -> None:
    """CHATS-CONTRACT 7.5: v2.32's list also returns sub-agent chats (fixed by fc2493780 for
    v2.33, which lists root chats only, with their sub-agents under `children`). The client
    lists root chats on both."""
    server, client, _ = start(version, "agents")
    root = client.create_chat("Plan it [sim:subagent] [sim:work=1]")
    raw = client._object("GET", f"{client.server.prefix}/{root.id}")
    listed = httpx.get(
        f"{server.url}{client.server.prefix}",
        headers={"Coder-Session-Token": server.token},
    ).json()
    child = next(c for c in server.chats.chats if c.parent_id == root.id)
    if version == "2.32.1":
        assert {c["id"] for c in listed} == {root.id, child.id}
        assert next(c for c in listed if c["id"] == child.id)["parent_chat_id"] == root.id
        assert "children" not in dict(raw)  # a copy: not a read of the client's
    else:
        assert [c["id"] for c in listed] == [root.id]
        assert [c["id"] for c in raw["children"]] == [child.id]
    assert [c.id for c in client.list_chats()] == [root.id]
