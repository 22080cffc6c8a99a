"""The simulated chat statuses and archive rule per release (CHATS-CONTRACT 7.2).

`pending`, `paused` and `completed` left the status enum in v2.36 (PR #27064): from then the
API sends only `waiting`, `running`, `error`, `requires_action` and `interrupting`. Archive is
allowed only from `waiting` and `error` (main `chatstate/transitions.go`). Time moves only when
the test moves it, so every state is seen whatever the machine's load.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

GA_STATUSES = {"waiting", "running", "error", "requires_action", "interrupting"}
ACTIVE = "Cannot archive an active chat. Interrupt or wait for the chat to finish first."


class Chats:
    """The chat routes of one simulated deployment, recording every status they show."""

    def __init__(self, server: Any) -> None:
        self.prefix = (
            "/api/v2/chats" if server.version.at_least(2, 37) else "/api/experimental/chats"
        )
        self.http = httpx.Client(base_url=server.url, headers={"Coder-Session-Token": server.token})
        self.org = self.http.get("/api/v2/users/me/organizations").json()[0]["id"]
        self.seen: set[str] = set()

    def create(self, text: str) -> str:
        body = {"organization_id": self.org, "content": [{"type": "text", "text": text}]}
        answer = self.http.post(self.prefix, json=body)
        assert answer.status_code == 201, answer.text
        self.seen.add(answer.json()["status"])
        return str(answer.json()["id"])

    def status(self, chat: str) -> str:
        one = self.http.get(f"{self.prefix}/{chat}").json()["status"]
        listed = {c["status"] for c in self.http.get(self.prefix).json()}
        self.seen |= {one, *listed}
        return str(one)

    def send(self, chat: str, text: str) -> None:
        body = {"content": [{"type": "text", "text": text}]}
        assert self.http.post(f"{self.prefix}/{chat}/messages", json=body).status_code == 200

    def archive(self, chat: str) -> httpx.Response:
        return self.http.patch(f"{self.prefix}/{chat}", json={"archived": True})


def lifecycle(server: Any, now: Any) -> Chats:
    """Every state a chat can pass through: a turn, a queued message, an interrupt, an error,
    a request for client tool results, each archive refused or accepted as 7.2 says."""
    chats = Chats(server)
    step = server.clock.span(0.2)
    chat = chats.create("Work [sim:work=2]")
    chats.send(chat, "More [sim:work=2]")  # queued behind the running turn
    chats.status(chat)
    assert chats.http.post(f"{chats.prefix}/{chat}/interrupt").status_code == 200
    for _ in range(60):
        now.advance(step)
        chats.status(chat)
    failing = chats.create("Break [sim:error] [sim:work=1]")
    asking = chats.create("Ask [sim:requires-action] [sim:work=1]")
    for _ in range(20):
        now.advance(step)
    assert chats.status(failing) == "error"
    assert chats.status(asking) == "requires_action"
    assert chats.archive(failing).status_code == 204
    return chats


@pytest.mark.parametrize("version", ["2.36.0", "2.37.0", "2.38.0"])
def test_statuses_that_left_the_enum_are_never_sent_from_v2_36(
    stepped_sim: Any, version: str
) -> None:
    server, now = stepped_sim(version)
    chats = lifecycle(server, now)
    assert chats.seen <= GA_STATUSES
    assert {"running", "interrupting", "waiting", "error", "requires_action"} <= chats.seen


def test_pending_is_sent_before_the_state_refactor(stepped_sim: Any) -> None:
    server, now = stepped_sim("2.34.2")
    chats = lifecycle(server, now)
    assert "pending" in chats.seen and "interrupting" not in chats.seen


@pytest.mark.parametrize("version", ["2.35.0", "2.38.0"])
def test_only_waiting_and_error_chats_are_archived(stepped_sim: Any, version: str) -> None:
    server, now = stepped_sim(version)
    chats = Chats(server)
    asking = chats.create("Ask [sim:requires-action] [sim:work=1]")
    busy = chats.create("Busy [sim:work=1000]")
    now.advance(server.clock.span(2))
    assert chats.status(asking) == "requires_action"
    for chat in (asking, busy):
        refused = chats.archive(chat)
        assert refused.status_code == 409 and refused.json()["message"] == ACTIVE
    # Interrupting a chat that waits for tool results makes it archivable (7.2).
    assert chats.http.post(f"{chats.prefix}/{asking}/interrupt").status_code == 200
    assert chats.status(asking) == "waiting"
    assert chats.archive(asking).status_code == 204
