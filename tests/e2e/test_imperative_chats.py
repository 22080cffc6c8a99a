"""`tasks list`, `status` and `logs` on a deployment that serves only Chats (Coder Agents).

The real command in a subprocess against the simulator over loopback; on servers that serve
Tasks the existing golden tests keep Coder's task CLI output byte for byte.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from conftest import check_exchanges, run_tasks

from runner.coder.chats import ChatsClient
from runner.coder.config import Connection
from runner.sim.server import SimServer


@pytest.fixture
def agents_server() -> Iterator[SimServer]:
    server = SimServer(coder_version="2.38.0", time_scale=0.05)
    server.exchanges = []  # judged by the contract net afterwards
    server.start()
    yield server
    server.stop()
    check_exchanges(server)


def env(server: SimServer) -> dict[str, str]:
    return {"CODER_URL": server.url, "CODER_SESSION_TOKEN": server.token}


def test_list_status_and_logs_show_chats(agents_server: SimServer) -> None:
    client = ChatsClient(Connection(url=agents_server.url, token=agents_server.token))
    chat = client.create_chat("Fix the login bug [sim:pr] [sim:work=1]", title="nightly: login")
    deadline = time.monotonic() + 20
    while not client.get_chat(chat.id).idle:
        assert time.monotonic() < deadline
        time.sleep(0.02)

    listed = run_tasks(["list"], env=env(agents_server))
    assert listed.code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split() == ["ID", "TITLE", "STATUS", "UPDATED", "PULL", "REQUEST"]
    # v2.38 takes no `title` on create (CHATS-CONTRACT 7.5): the prompt names the chat.
    assert row.startswith(f"{chat.id}  Fix the login bug [sim:pr] [sim:work=1]  waiting")
    assert "https://github.com/example/repo/pull/" in row and "(open)" in row

    quiet = run_tasks(["list", "-q"], env=env(agents_server))
    assert quiet.stdout == f"{chat.id}\n"
    as_json = run_tasks(["list", "-o", "json"], env=env(agents_server))
    assert [c["id"] for c in json.loads(as_json.stdout)] == [chat.id]

    status = run_tasks(["status", chat.id, "-o", "json"], env=env(agents_server))
    assert status.code == 0, status.output
    assert json.loads(status.stdout)["status"] == "waiting"

    logs = run_tasks(["logs", chat.id], env=env(agents_server))
    assert logs.code == 0, logs.output
    lines = logs.stdout.splitlines()
    assert lines[0] == "user: Fix the login bug [sim:pr] [sim:work=1]"
    assert lines[1].startswith('assistant: execute({"command":')
    assert lines[-1].startswith("assistant: I opened pull request #")
    assert not any(line.startswith("tool:") for line in lines)


def test_a_chat_is_named_by_uuid(agents_server: SimServer) -> None:
    result = run_tasks(["status", "some-name"], env=env(agents_server))
    assert result.code == 3
    assert result.stderr.count("\n") == 1
    assert "is not a chat" in result.stderr and "<batch>/<name>" in result.stderr


def test_tasks_servers_keep_tasks_and_an_empty_agents_server_says_so() -> None:
    with SimServer(coder_version="2.33.0") as server:
        # v2.33 serves Tasks: the Tasks path answers and nothing changes.
        assert run_tasks(["list"], env=env(server)).code == 0
    with SimServer(coder_version="2.37.0") as server:
        assert run_tasks(["list"], env=env(server)).stderr == "No chats found.\n"


def labelled(client: ChatsClient, batch: str, name: str, prompt: str) -> str:
    """A chat as a batch makes it: labelled with its batch and its name."""
    labels = {"tasks/batch": batch, "tasks/item": name}
    return client.create_chat(prompt, labels=labels, title=f"{batch}: {name}").id


def wait_idle(client: ChatsClient, chat_id: str) -> None:
    deadline = time.monotonic() + 20
    while not client.get_chat(chat_id).idle:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_batch_slash_name_names_a_chat_for_status_logs_and_send(agents_server: SimServer) -> None:
    client = ChatsClient(Connection(url=agents_server.url, token=agents_server.token))
    auth = labelled(client, "nightly", "auth", "Add auth [sim:pr] [sim:work=1]")
    other = labelled(client, "nightly-2", "auth", "Add auth elsewhere [sim:work=1]")
    wait_idle(client, auth)

    status = run_tasks(["status", "nightly/auth", "-o", "json"], env=env(agents_server))
    assert status.code == 0, status.output
    assert json.loads(status.stdout)["id"] == auth
    assert json.loads(status.stdout)["id"] != other

    logs = run_tasks(["logs", "nightly/auth"], env=env(agents_server))
    assert logs.code == 0, logs.output
    assert logs.stdout.splitlines()[0] == "user: Add auth [sim:pr] [sim:work=1]"

    sent = run_tasks(["send", "nightly/auth", "Please also add tests."], env=env(agents_server))
    assert sent.code == 0, sent.output
    wait_idle(client, auth)
    users = [m.text for m in client.history(auth) if m.role == "user"]
    assert users == ["Add auth [sim:pr] [sim:work=1]", "Please also add tests."]
    # The other batch's chat of the same name got nothing.
    assert [m.text for m in client.history(other) if m.role == "user"] == [
        "Add auth elsewhere [sim:work=1]"
    ]

    missing = run_tasks(["send", "nightly/nope", "hi"], env=env(agents_server))
    assert missing.code != 0 and "Traceback" not in missing.output
    assert missing.stderr.count("\n") == 1
    assert 'no chat of batch "nightly" is named "nope"' in missing.stderr


def test_send_to_a_busy_chat_is_queued(agents_server: SimServer) -> None:
    client = ChatsClient(Connection(url=agents_server.url, token=agents_server.token))
    chat = labelled(client, "nightly", "busy", "Work a while [sim:work=100]")
    sent = run_tasks(["send", chat, "Then this."], env=env(agents_server))
    assert sent.code == 0, sent.output
    assert sent.stderr == 'Chat "nightly/busy" is busy: the message is queued.\n'
    sends = [
        r
        for r in agents_server.requests
        if r["method"] == "POST" and r["path"].endswith(f"/{chat}/messages")
    ]
    assert len(sends) == 1


def test_delete_interrupts_and_archives_only_the_named_chat() -> None:
    """Archiving an interrupting chat is 409 until it settles (v2.35+; ai-sdk PR #177).

    Slow server time (an interrupt settles in 2 real seconds) makes that 409 certain.
    """
    with SimServer(coder_version="2.38.0", time_scale=2.0) as agents_server:
        _delete_interrupts_and_archives(agents_server)


def _delete_interrupts_and_archives(agents_server: SimServer) -> None:
    client = ChatsClient(Connection(url=agents_server.url, token=agents_server.token))
    busy = labelled(client, "nightly", "auth", "Work a long time [sim:work=2000]")
    other = labelled(client, "nightly-2", "auth", "Same name, other batch")
    hand = client.create_chat("Hand made", title="nightly: auth").id
    assert client.get_chat(busy).status in ("pending", "running")

    refused = run_tasks(["delete", "nightly/auth"], env=env(agents_server))
    assert refused.code == 3 and "pass --yes" in refused.stderr
    assert not client.get_chat(busy).archived

    deleted = run_tasks(["delete", "nightly/auth", busy, "--yes"], env=env(agents_server))
    assert deleted.code == 0, deleted.output
    (line,) = deleted.stdout.splitlines()  # named twice, archived once
    assert line.startswith("Archived chat nightly/auth at ")
    assert client.get_chat(busy).archived
    assert not client.get_chat(other).archived and not client.get_chat(hand).archived
    methods = [(r["method"], r["path"], r["status"]) for r in agents_server.requests]
    # The busy chat was interrupted before it was archived; no workspace was touched.
    interrupts = [m for m in methods if m[0] == "POST" and m[1].endswith(f"/{busy}/interrupt")]
    archives = [m for m in methods if m[0] == "PATCH" and m[1].endswith(f"/{busy}")]
    assert len(interrupts) == 1
    assert archives[0][2] == 409 and archives[-1][2] == 204
    assert not any("/workspaces" in path for _, path, _ in methods)

    again = run_tasks(["delete", "nightly/auth", "--yes"], env=env(agents_server))
    assert again.code != 0 and 'no chat of batch "nightly" is named "auth"' in again.stderr
