"""The simulated agent's pull requests: one repository, so each has a number of its own.

`diff_status` (`url`, `pr_number`: CHATS-CONTRACT 1.2) of two chats with the same history must
not name the same pull request; the numbers come from the reply's message id, which no two
chats of a deployment share (runner/sim/chats/record.py).
"""

from __future__ import annotations

from typing import Any

import httpx

from .helpers import SimApi


def test_two_chats_with_the_same_history_open_different_pull_requests(stepped_sim: Any) -> None:
    server, now = stepped_sim("2.38.0")
    headers = {"Coder-Session-Token": server.token}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        org = http.get("/api/v2/users/me/organizations").json()[0]["id"]
        text = "Fix the login page [sim:pr] [sim:work=1]"
        body = {"organization_id": org, "content": [{"type": "text", "text": text}]}
        ids = [http.post("/api/v2/chats", json=body).json()["id"] for _ in range(3)]
        now.advance(60)
        found = [http.get(f"/api/v2/chats/{chat_id}").json()["diff_status"] for chat_id in ids]
    numbers = [status["pr_number"] for status in found]
    assert len(set(numbers)) == 3, numbers
    assert [status["url"] for status in found] == [
        f"https://github.com/example/repo/pull/{number}" for number in numbers
    ]


def test_two_tasks_with_the_same_prompt_report_different_pull_requests(stepped_sim: Any) -> None:
    """The same on Tasks: the agent's final report carries the pull request's URL (`uri`)."""
    server, now = stepped_sim("2.34.2")
    api = SimApi(server)
    tasks = [api.create_ok("Fix the login page [sim:pr] [sim:work=1]") for _ in range(3)]
    now.advance(600)
    uris = [api.get(task)["current_state"]["uri"] for task in tasks]
    assert len(set(uris)) == 3, uris
    assert all(uri.startswith("https://github.com/example/repo/pull/") for uri in uris), uris
