"""The simulator's chat capacity, as Coder's unlicensed v2.37+ caps it (CHATS-CONTRACT 7.4).

Followed in erickirt/coder c9a1e2bce (commit 119f2b1dd): two pools, 5 root and 10 sub-agent
chats (`coderd/x/chatd/agentadmission.go`); queued chats are taken up oldest `updated_at` first,
then by id (`GetChatWorkerAcquisitionCandidates`, `coderd/database/queries/chats.sql`);
`queued_for_capacity` only on a single-chat read, `omitempty` (`exp_chats.go`,
`codersdk/chats.go`); an interrupt bypasses admission (`worker.go`, `acquireOnce`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import run_tasks
from stepped_time import SteppedTime

from runner.sim.server import SimServer

WORK = 60


@pytest.fixture
def capped() -> Iterator[tuple[SimServer, SteppedTime, httpx.Client]]:
    now = SteppedTime()
    server = SimServer(coder_version="2.38.0", chat_capacity=(2, 1), now=now)
    server.start()
    with httpx.Client(base_url=server.url, headers={"Coder-Session-Token": server.token}) as http:
        yield server, now, http
    server.stop()


def create(http: httpx.Client, text: str) -> str:
    org = http.get("/api/v2/users/me").json()["organization_ids"][0]
    body = {"organization_id": org, "content": [{"type": "text", "text": text}]}
    response = http.post("/api/v2/chats", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def shown(http: httpx.Client, chat_id: str) -> tuple[str, bool]:
    body: dict[str, Any] = http.get(f"/api/v2/chats/{chat_id}").json()
    return body["status"], body.get("queued_for_capacity", False)


def test_chats_beyond_capacity_stay_running_and_start_oldest_first(capped: Any) -> None:
    _, now, http = capped
    ids = [create(http, f"job {n} [sim:work={WORK}]") for n in range(4)]
    assert [shown(http, i) for i in ids] == [("running", False)] * 2 + [("running", True)] * 2
    # The list never says (the field is `omitempty`, and the list leaves it false).
    assert all("queued_for_capacity" not in chat for chat in http.get("/api/v2/chats").json())
    now.advance(WORK + 1)  # the first two end their turns: the next two, oldest first, start
    assert [shown(http, i) for i in ids] == [("waiting", False)] * 2 + [("running", False)] * 2
    now.advance(WORK)
    assert [shown(http, i)[0] for i in ids] == ["waiting"] * 4


def test_a_queued_turn_works_its_full_time_once_taken_up(capped: Any) -> None:
    _, now, http = capped
    ids = [create(http, f"job {n} [sim:work={WORK}]") for n in range(3)]
    now.advance(WORK + WORK / 2)  # the third was taken up at WORK: half its work is done
    assert shown(http, ids[2]) == ("running", False)
    now.advance(WORK / 2)
    assert shown(http, ids[2]) == ("waiting", False)


def test_sub_agents_have_a_pool_of_their_own(capped: Any) -> None:
    _, _, http = capped
    roots = [create(http, f"lead {n} [sim:work={WORK}] [sim:subagent={WORK}]") for n in range(2)]
    children = [http.get(f"/api/v2/chats/{r}").json()["children"][0]["id"] for r in roots]
    # Two roots fit the root pool; the sub-agent pool holds one, so the second sub-agent waits.
    assert [shown(http, r) for r in roots] == [("running", False)] * 2
    assert sorted(shown(http, c) for c in children) == [("running", False), ("running", True)]


def test_an_interrupt_stops_a_queued_chat_without_a_slot(capped: Any) -> None:
    _, now, http = capped
    ids = [create(http, f"job {n} [sim:work={WORK}]") for n in range(3)]
    assert http.post(f"/api/v2/chats/{ids[2]}/interrupt").status_code == 200
    now.advance(2)  # `interrupting` settles (v2.35+) though both slots stay busy
    assert shown(http, ids[2]) == ("waiting", False)
    assert [shown(http, i) for i in ids[:2]] == [("running", False)] * 2


def test_a_release_without_caps_refuses_the_switch() -> None:
    with pytest.raises(ValueError, match="no chat capacity limit"):
        SimServer(coder_version="2.36.0", chat_capacity=(5, 10))
    refused = run_tasks(["sim", "--coder-version", "2.36.0", "--chat-capacity", "5"])
    assert refused.code == 3
    assert refused.output.strip() == (
        "error: --chat-capacity: v2.36.0 has no chat capacity limit (v2.37 and later have)"
    )
    malformed = run_tasks(["sim", "--chat-capacity", "five"])
    assert malformed.code == 3
    assert "--chat-capacity: 'five' is not ROOT[,SUB]" in malformed.output
