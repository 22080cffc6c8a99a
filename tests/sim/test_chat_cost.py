"""The simulated AI Gateway: `GET {P}/{chat}/cost` (v2.36+, CHATS-CONTRACT 7.4) sums the model
requests of a chat and its sub-agents, one per finished turn, at the deployment's price."""

from __future__ import annotations

from typing import Any

import httpx


def test_cost_sums_the_chat_and_its_sub_agents_at_the_configured_price(stepped_sim: Any) -> None:
    server, now = stepped_sim("2.38.0", request_price_micros=250_000)
    headers = {"Coder-Session-Token": server.token}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        org = http.get("/api/v2/users/me/organizations").json()[0]["id"]
        text = "root [sim:work=1] [sim:subagent]"
        body = {"organization_id": org, "content": [{"type": "text", "text": text}]}
        chat = http.post("/api/v2/chats", json=body).json()
        path = f"/api/v2/chats/{chat['id']}/cost"
        # The turn has not finished: nothing is recorded yet.
        assert http.get(path).json()["request_count"] == 0
        child = http.get(f"/api/v2/chats/{chat['id']}").json()["children"][0]
        message = {"content": [{"type": "text", "text": "sub [sim:work=1]"}]}
        assert http.post(f"/api/v2/chats/{child['id']}/messages", json=message).status_code == 200
        now.advance(60)
        assert http.get(path).json() == {
            "chat_id": chat["id"],
            "total_cost_micros": 500_000,
            "request_count": 2,
            "unpriced_request_count": 0,
        }
        # The sub-agent's own cost is its own requests.
        assert http.get(f"/api/v2/chats/{child['id']}/cost").json()["total_cost_micros"] == 250_000


def test_tasks_sim_takes_a_request_price_and_refuses_a_bad_one() -> None:
    from conftest import run_tasks

    result = run_tasks(["sim", "--request-price", "a dollar"])
    assert result.code == 3 and "Traceback" not in result.output
    assert "--request-price: expected US dollars such as" in result.output
