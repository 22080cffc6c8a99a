"""Chat statuses as Coder has them (CHATS-CONTRACT 7.2), against a fake transport.

The fake answers what a newer Coder may send: a status this client does not know (the `paused`
of PR #29215, in review). The client runs unchanged; only the bytes on the wire are made up.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

import httpx
import pytest

from runner.backends.chats import ChatsBackend
from runner.coder.chat_models import Chat
from runner.coder.chats import ChatsClient
from runner.coder.client import CoderClient
from runner.coder.config import Connection
from runner.ownership import BATCH_LABEL, ITEM_LABEL
from runner.readiness import Readiness, ReadinessTracker, retire_chat
from runner.render.chat_tables import chat_table

ME = {"id": str(uuid4()), "username": "admin"}
PREFIX = "/api/v2/chats"
ARCHIVE_REFUSED = "Cannot archive an active chat. Interrupt or wait for the chat to finish first."


def chat_json(status: str, chat_id: str) -> dict[str, Any]:
    return {
        "id": chat_id,
        "organization_id": str(uuid4()),
        "owner_id": ME["id"],
        "owner_username": "admin",
        "title": "nightly: auth",
        "status": status,
        "created_at": "2026-11-10T09:10:01Z",
        "updated_at": "2026-11-10T09:10:01Z",
        "archived": False,
        "labels": {BATCH_LABEL: "nightly", ITEM_LABEL: "auth"},
    }


class FakeAgents:
    """A v2.39 deployment whose one chat is in `status` until it is interrupted."""

    def __init__(self, status: str) -> None:
        self.chat_id = str(uuid4())
        self.status = status
        self.calls: list[tuple[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method, request.url.path
        self.calls.append((method, path))
        chat = f"{PREFIX}/{self.chat_id}"
        if path == "/api/v2/buildinfo":
            return _json(200, {"version": "v2.39.0", "dashboard_url": "http://x"})
        if path == "/api/v2/users/me":
            return _json(200, ME)
        if (method, path) == ("GET", PREFIX):
            return _json(200, [chat_json(self.status, self.chat_id)])
        if (method, path) == ("GET", chat):
            return _json(200, chat_json(self.status, self.chat_id))
        if (method, path) == ("GET", f"{chat}/messages"):
            message = {
                "id": 1,
                "chat_id": self.chat_id,
                "role": "user",
                "created_at": "2026-11-10T09:10:01Z",
                "content": [{"type": "text", "text": "Do it"}],
            }
            return _json(200, {"messages": [message], "queued_messages": [], "has_more": False})
        if (method, path) == ("POST", f"{chat}/interrupt"):
            self.status = "waiting"
            return _json(200, chat_json(self.status, self.chat_id))
        if (method, path) == ("PATCH", chat):
            if self.status not in ("waiting", "error"):
                return _json(409, {"message": ARCHIVE_REFUSED})
            return httpx.Response(204)
        return _json(404, {"message": "Route not found."})

    def client(self) -> ChatsClient:
        connection = Connection(url="https://coder.example.com", token="fakeid-secret")
        return ChatsClient(connection, transport=httpx.MockTransport(self.handler))


def _json(status: int, body: Any) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)


def test_an_unknown_status_is_waited_on_as_busy_and_shown_as_sent() -> None:
    fake = FakeAgents("paused")
    backend = ChatsBackend(fake.client(), CoderClient(fake.client().connection))
    (item,) = backend.list_items(None, "nightly")
    assert item.current_state is not None
    assert item.current_state.state == "working"
    assert item.message == "chat status 'paused'"
    tracker = ReadinessTracker(idle_grace=0.0, no_state_after=0.0)
    assert tracker.observe(item, 0.0) is Readiness.NOT_READY
    assert tracker.observe(item, 100.0) is Readiness.NOT_READY  # never taken for done
    shown = chat_table([fake.client().get_chat(fake.chat_id)], datetime.now(timezone.utc))
    assert "paused" in shown.splitlines()[1]


@pytest.mark.parametrize("status", ["requires_action", "paused", "running"])
def test_every_status_coder_does_not_archive_is_interrupted_first(status: str) -> None:
    fake = FakeAgents(status)
    client = fake.client()
    retire_chat(client, Chat.from_json(chat_json(status, fake.chat_id)), patience=0.0)
    writes = [(m, p.rsplit("/", 1)[-1]) for m, p in fake.calls if m in ("POST", "PATCH")]
    assert writes == [("POST", "interrupt"), ("PATCH", fake.chat_id)]


@pytest.mark.parametrize("status", ["waiting", "error"])
def test_an_archivable_chat_is_archived_without_an_interrupt(status: str) -> None:
    fake = FakeAgents(status)
    retire_chat(fake.client(), Chat.from_json(chat_json(status, fake.chat_id)), patience=0.0)
    assert [m for m, _ in fake.calls if m in ("POST", "PATCH")] == ["PATCH"]
