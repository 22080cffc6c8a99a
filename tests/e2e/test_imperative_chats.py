"""`tasks list`, `status` and `logs` on a deployment that serves only Chats (Coder Agents).

The real command in a subprocess against the simulator over loopback; on servers that serve
Tasks the existing golden tests keep Coder's task CLI output byte for byte.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from conftest import run_tasks

from runner.coder.chats import ChatsClient
from runner.coder.config import Connection
from runner.sim.server import SimServer


@pytest.fixture
def agents_server() -> Iterator[SimServer]:
    server = SimServer(coder_version="2.38.0", time_scale=0.05)
    server.start()
    yield server
    server.stop()


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
    assert row.startswith(f"{chat.id}  nightly: login  waiting")
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
    assert "is not a chat ID" in result.stderr


def test_tasks_servers_keep_tasks_and_an_empty_agents_server_says_so() -> None:
    with SimServer(coder_version="2.33.0") as server:
        # v2.33 serves Tasks: the Tasks path answers and nothing changes.
        assert run_tasks(["list"], env=env(server)).code == 0
    with SimServer(coder_version="2.37.0") as server:
        assert run_tasks(["list"], env=env(server)).stderr == "No chats found.\n"
