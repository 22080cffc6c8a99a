"""The simulated AI Gateway: `GET {P}/{chat}/cost` (v2.36+, CHATS-CONTRACT 7.4) sums the model
requests of a chat and its sub-agents, one per finished turn, at the deployment's price."""

from __future__ import annotations

import signal
import time
from typing import Any

import httpx
from conftest import run_tasks, running_tasks


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


def test_tasks_sim_charges_its_request_price() -> None:
    args = ["sim", "--coder-version", "2.38.0", "--request-price", "0.25", "--time-scale", "0.01"]
    with running_tasks(args) as process:
        assert process.stdout is not None
        url = process.stdout.readline().strip().split("=", 1)[1]
        token = process.stdout.readline().strip().split("=", 1)[1]
        with httpx.Client(base_url=url, headers={"Coder-Session-Token": token}) as http:
            org = http.get("/api/v2/users/me/organizations").json()[0]["id"]
            body = {"organization_id": org, "content": [{"type": "text", "text": "x [sim:work=1]"}]}
            chat = http.post("/api/v2/chats", json=body).json()
            deadline = time.monotonic() + 30
            while http.get(f"/api/v2/chats/{chat['id']}").json()["status"] != "waiting":
                assert time.monotonic() < deadline, "the turn never ended"
                time.sleep(0.02)
            cost = http.get(f"/api/v2/chats/{chat['id']}/cost").json()
        assert (cost["request_count"], cost["total_cost_micros"]) == (1, 250_000)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_tasks_sim_refuses_a_bad_request_price() -> None:
    result = run_tasks(["sim", "--request-price", "a dollar"])
    assert result.code == 3 and "Traceback" not in result.output
    assert "--request-price: expected US dollars such as" in result.output
