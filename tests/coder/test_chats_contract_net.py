"""The contract net covers every route of the Chats client, and it catches what it should.

Each public method of `ChatsClient` runs against the simulator over loopback HTTP on the releases
a Chats batch meets (v2.33 with the `agents` experiment, v2.34, v2.38). Every exchange it caused
must pass `exchange_errors` (strict, per release: tests/chats_contract.py) and must fail it once
a key is invented in its answer: so no route is skipped. A key invented in a chat, a message or a
workspace, or a declared one removed, fails the check; so does a key the client reads that the
contract does not declare (field provenance).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import undeclared_reads
from contract_schema import exchange_errors

from runner.coder import provenance
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection
from runner.errors import UnsupportedServerError

RELEASES = [("2.33.0", ("agents",)), ("2.34.2", ()), ("2.38.0", ())]
#: Every public method of the client (and `server`, the probe, from its base; `close` sends
#: nothing): a new one fails the coverage test until it is driven here.
CLIENT_METHODS = sorted(
    {"server"}
    | {
        name
        for name, member in vars(ChatsClient).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    }
)


def _args(exchange: dict[str, Any]) -> dict[str, Any]:
    args = {k: exchange[k] for k in ("method", "path", "query", "status", "payload")}
    args["request_body"] = exchange["body"]
    return args


def _invent(payload: Any) -> Any:
    """The answer with one key Coder never sends, at its first object."""
    broken = copy.deepcopy(payload)
    if isinstance(broken, dict):
        broken["invented_by_the_test"] = 1
    elif isinstance(broken, list) and broken and isinstance(broken[0], dict):
        broken[0]["invented_by_the_test"] = 1
    else:
        broken = [{"invented_by_the_test": 1}] if isinstance(broken, list) else {"x": 1}
    return broken


class Driver:
    """Calls client methods, remembering which exchanges each one caused."""

    def __init__(self, server: Any, client: ChatsClient) -> None:
        self.server = server
        self.client = client
        self.by_method: dict[str, list[dict[str, Any]]] = {}

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        before = len(self.server.exchanges)
        try:
            member = getattr(self.client, name)
            return member(*args, **kwargs) if callable(member) else member
        finally:
            caused = self.server.exchanges[before:]
            self.by_method.setdefault(name, []).extend(caused)


def _wait(probe: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


@pytest.fixture
def driven(make_sim: Any, request: pytest.FixtureRequest) -> Iterator[Driver]:
    version, experiments = request.param
    server = make_sim(version, experiments=experiments)
    with ChatsClient(Connection(url=server.url, token=server.token, simulated=True)) as client:
        yield Driver(server, client)


def _drive_everything(d: Driver) -> None:
    """Every public client method, on the routes a Chats batch uses."""
    info = d.call("server")
    d.call("me")
    d.call("default_organization_id")
    template = next(t for t in d.server.directory.templates if t.name == "claude-code")
    version = template.versions[0]
    workspace = d.call("create_workspace", "net-ws", version.id, preset_id=version.presets[1].id)
    assert d.call("get_workspace", workspace.id).name == "net-ws"
    assert d.call("workspace_by_name", "me", "net-ws") is not None
    assert d.call("workspace_by_name", "me", "no-such-ws") is None
    assert "net-ws" in [w.name for w in d.call("workspaces_of", "me")]
    labels = {"tasks/batch": "net", "tasks/item": "one"}
    # CHATS-CONTRACT 7.3: a config's id is what create and send take as `model_config_id`.
    model = next(c for c in d.call("model_configs") if not c.is_default).id
    chat = d.call(
        "create_chat",
        "Net [sim:work=1]",
        labels=labels,
        workspace_id=workspace.id,
        model_config_id=model,
    )
    _wait(lambda: d.call("get_chat", chat.id).idle)
    assert [c.id for c in d.call("list_chats", labels=labels)] == [chat.id]
    assert d.call("messages", chat.id, limit=10).messages
    assert d.call("history", chat.id)
    if info.supports_prompts:
        assert d.call("prompts", chat.id)
    else:
        with pytest.raises(UnsupportedServerError):
            d.call("prompts", chat.id)
    if info.supports_cost:  # CHATS-CONTRACT 7.4: v2.36+
        assert d.call("cost", chat.id).request_count == 1
    else:
        with pytest.raises(UnsupportedServerError):
            d.call("cost", chat.id)
    d.call("send_message", chat.id, "Longer [sim:work=1000]", model_config_id=model)
    queued = d.call("send_message", chat.id, "Behind it", model_config_id=model)
    assert queued.queued_id is not None  # the chat is busy: the message waits in its queue
    # Read back as Coder lists it: a queued message has no role (codersdk.ChatQueuedMessage).
    assert [m.text for m in d.call("messages", chat.id, limit=10).queued] == ["Behind it"]
    d.call("unqueue", chat.id, queued.queued_id)
    d.call("interrupt", chat.id)
    _wait(lambda: d.call("get_chat", chat.id).idle)
    d.call("set_labels", chat.id, {**labels, "tasks/follow-ups": "done"})
    d.call("archive", chat.id)
    other = d.call("create_chat", "Busy [sim:work=1000]", labels={"tasks/batch": "net"})
    d.call("stop_turn", other)  # busy: interrupted (readiness.retire_chat waits it out)
    _wait(lambda: d.call("get_chat", other.id).idle)
    d.call("archive_settled", other.id)
    d.call("archive_settled", other.id)  # archived already: Coder's 400 counts as done
    # A build waits for the one before it (409 while its job runs): stop (`after: stop`,
    # CHATS-CONTRACT 7.4), then delete.
    _wait(lambda: d.call("get_workspace", workspace.id).status == "running")
    d.call("stop_workspace", workspace.id)
    _wait(lambda: d.call("get_workspace", workspace.id).status == "stopped")
    d.call("delete_workspace", workspace.id)


@pytest.mark.parametrize("driven", RELEASES, indirect=True, ids=[v for v, _ in RELEASES])
def test_every_route_of_the_chats_client_is_validated(reference: Path, driven: Driver) -> None:
    _drive_everything(driven)
    assert sorted(driven.by_method) == CLIENT_METHODS
    version = str(driven.server.version)
    routes: set[tuple[str, str]] = set()
    for name, exchanges in driven.by_method.items():
        assert exchanges or name in ("prompts", "cost"), f"{name} sent nothing"
        for exchange in exchanges:
            args = _args(exchange)
            assert exchange_errors(reference, version, **args) == [], name
            broken = {**args, "payload": _invent(exchange["payload"])}
            assert exchange_errors(reference, version, **broken), f"{name}: {args} not judged"
            routes.add((exchange["method"], exchange["path"]))
    prefix = driven.client.server.prefix
    # The routes a Chats batch needs, each seen (and so each validated) above.
    needed = {
        ("GET", prefix),
        ("POST", prefix),
        ("POST", "/api/v2/users/me/workspaces"),
        ("GET", "/api/v2/users/me/workspace/net-ws"),
        ("GET", "/api/v2/users/me/organizations"),
        ("GET", "/api/v2/users/me"),
    }
    assert needed <= routes
    suffixes = {path.rsplit("/", 1)[-1] for _, path in routes}
    assert {"messages", "interrupt", "builds"} <= suffixes


#: (what the client called, a predicate on the exchange, where in the answer, key) per object.
CHAT = ("create_chat", lambda e: e["method"] == "POST" and e["status"] == 201, ())
MESSAGE = ("messages", lambda e: e["status"] == 200, ("messages", 0))
WORKSPACE = ("get_workspace", lambda e: e["status"] == 200, ())
BUILD = ("delete_workspace", lambda e: e["status"] == 201, ())
REMOVED = {"create_chat": "title", "messages": "role", "get_workspace": "name"}


@pytest.mark.parametrize("driven", RELEASES, indirect=True, ids=[v for v, _ in RELEASES])
@pytest.mark.parametrize("target", [CHAT, MESSAGE, WORKSPACE, BUILD], ids=lambda t: t[0])
def test_an_invented_or_removed_field_fails_the_check(
    reference: Path, driven: Driver, target: Any
) -> None:
    _drive_everything(driven)
    method, chosen, where = target
    exchange = next(e for e in driven.by_method[method] if chosen(e))
    version = str(driven.server.version)
    args = _args(exchange)
    assert exchange_errors(reference, version, **args) == []
    invented = copy.deepcopy(exchange["payload"])
    holder = invented
    for step in where:
        holder = holder[step]
    holder["invented_by_the_test"] = True
    errors = exchange_errors(reference, version, **{**args, "payload": invented})
    assert any("'invented_by_the_test' was unexpected" in e for e in errors), errors
    removed_key = REMOVED.get(method, "transition")
    removed = copy.deepcopy(exchange["payload"])
    holder = removed
    for step in where:
        holder = holder[step]
    del holder[removed_key]
    errors = exchange_errors(reference, version, **{**args, "payload": removed})
    assert any(f"'{removed_key}' is a required property" in e for e in errors), errors


@pytest.mark.parametrize(
    ("version", "experiments", "request_key"),
    [("2.38.0", (), "title"), ("2.37.0", (), "owner_id"), ("2.34.2", (), "project_id")],
)
def test_a_create_field_before_its_release_fails_the_request_check(
    reference: Path, make_sim: Any, version: str, experiments: tuple[str, ...], request_key: str
) -> None:
    """CHATS-CONTRACT 7.5: `title` is v2.39's, `owner_id` v2.38's, `project_id` GA's."""
    server = make_sim(version, experiments=experiments)
    with ChatsClient(Connection(url=server.url, token=server.token, simulated=True)) as client:
        client.create_chat("Plain [sim:work=1]")
    (exchange,) = [e for e in server.exchanges if e["method"] == "POST"]
    args = _args(exchange)
    assert exchange_errors(reference, version, **args) == []
    body = exchange["body"].replace(b"{", b'{"%s": "x", ' % request_key.encode(), 1)
    errors = exchange_errors(reference, version, **{**args, "request_body": body})
    assert any(f"'{request_key}' was unexpected" in e for e in errors), errors


@pytest.mark.parametrize(
    ("version", "experiments", "path", "key", "owner"),
    [
        ("2.38.0", (), "chat", "invented_field", "codersdk.Chat"),
        ("2.32.1", ("agents",), "chat", "organization_id", "codersdk.Chat"),
        ("2.33.0", ("agents",), "chat", "owner_username", "codersdk.Chat"),
        ("2.34.2", (), "messages", "reactions", "codersdk.ChatMessage"),
        ("2.38.0", (), "workspace", "chat_id", "codersdk.Workspace"),
    ],
)
def test_reading_an_undeclared_chats_key_fails(
    make_sim: Any,
    reference: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    version: str,
    experiments: tuple[str, ...],
    path: str,
    key: str,
    owner: str,
) -> None:
    """Field provenance on the Chats side, per release: v2.32 chats have no organization and
    v2.33 chats no owner's username, so reading them there is caught as `has_ai_task` was."""
    target = tmp_path / "reads.jsonl"
    monkeypatch.setenv(provenance.ENV, str(target))
    server = make_sim(version, experiments=experiments)
    with ChatsClient(Connection(url=server.url, token=server.token, simulated=True)) as client:
        chat = client.create_chat("Read [sim:work=1]")
        prefix = client.server.prefix
        template = next(t for t in server.directory.templates if t.name == "claude-code")
        workspace = client.create_workspace("read-ws", template.active_version_id)
        assert undeclared_reads(target) == []  # the client's own reads are all declared
        route = {
            "chat": f"{prefix}/{chat.id}",
            "messages": f"{prefix}/{chat.id}/messages",
            "workspace": f"/api/v2/workspaces/{workspace.id}",
        }[path]
        body = client._object("GET", route)
        holder = body["messages"][0] if path == "messages" else body
        holder.get(key)
    problems = undeclared_reads(target)
    assert len(problems) == 1, problems
    assert f"reads `{'messages[].' if path == 'messages' else ''}{key}`" in problems[0]
    assert f"which {owner} does not declare" in problems[0]
