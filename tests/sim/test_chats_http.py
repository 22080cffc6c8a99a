"""The simulated Chats API's rules over HTTP, each from CHATS-CONTRACT (section noted)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from runner.sim.server import SimServer


class Api:
    def __init__(self, server: SimServer, user: str = "admin") -> None:
        self.server = server
        self.prefix = (
            "/api/v2/chats" if server.version.at_least(2, 37) else "/api/experimental/chats"
        )
        self.http = httpx.Client(
            base_url=server.url, headers={"Coder-Session-Token": server.tokens[user]}
        )
        orgs = self.http.get("/api/v2/users/me/organizations").json()
        self.org = orgs[0]["id"]

    def create(self, text: str = "Do it [sim:work=1000]", **extra: Any) -> httpx.Response:
        body = {"organization_id": self.org, "content": [{"type": "text", "text": text}], **extra}
        return self.http.post(self.prefix, json=body)


def test_label_rules_report_every_problem(make_sim: Any) -> None:
    """Section 2: `Invalid labels.` with one validation per problem."""
    api = Api(make_sim("2.36.0"))
    labels = {"ok": "fine", "-bad": "v", "k" * 65: "v", "empty": "", "long": "x" * 257}
    response = api.create(labels=labels)
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "Invalid labels."
    details = sorted(v["detail"] for v in body["validations"])
    assert details == sorted(
        [
            'label key "-bad" contains invalid characters; must match '
            "^[a-zA-Z0-9][a-zA-Z0-9._/-]*$",
            f'label key "{"k" * 65}" exceeds maximum length of 64 bytes',
            'label value for key "empty" must not be empty',
            'label value for key "long" exceeds maximum length of 256 bytes',
        ]
    )
    assert {v["field"] for v in body["validations"]} == {"labels"}
    too_many = api.create(labels={f"k{i}": "v" for i in range(51)})
    assert too_many.json()["validations"] == [
        {"field": "labels", "detail": "too many labels (51); maximum is 50"}
    ]


def test_label_filter_splits_at_the_first_colon_and_ands(make_sim: Any) -> None:
    """Section 2: values may hold `:`; filters AND; a repeated key keeps the last value."""
    api = Api(make_sim("2.36.0"))
    one = api.create(labels={"repo": "a:b", "team": "x"}).json()["id"]
    api.create(labels={"repo": "a:b", "team": "y"})
    both = [("label", "repo:a:b"), ("label", "team:x")]
    assert [c["id"] for c in api.http.get(api.prefix, params=both).json()] == [one]
    repeated = [("label", "team:y"), ("label", "team:x")]
    assert [c["id"] for c in api.http.get(api.prefix, params=repeated).json()] == [one]
    bad = api.http.get(api.prefix, params={"label": "team:"})
    assert bad.status_code == 400
    assert bad.json() == {
        "message": 'Invalid label filter: "team:" (expected format key:value, both must be '
        "non-empty)"
    }


def test_search_query_and_pagination_errors(make_sim: Any, stepped_sim: Any) -> None:
    """Section 1.5 and `searchquery.Chats`: bare words and unknown keys are 400."""
    api = Api(make_sim("2.36.0"))
    bare = api.http.get(api.prefix, params={"q": "hello"}).json()
    assert bare == {
        "message": "Invalid chat search query.",
        "validations": [{"field": "q", "detail": 'unsupported search term: "hello"'}],
    }
    unknown = api.http.get(api.prefix, params={"q": "owner:me"}).json()
    assert unknown["validations"] == [
        {"field": "owner", "detail": '"owner" is not a valid query param'}
    ]
    # `status:` arrives with GA only.
    assert api.http.get(api.prefix, params={"q": "status:running"}).status_code == 400
    ga = Api(stepped_sim("2.37.0")[0])  # time stands still: the new chat stays running
    ga.create()
    running = ga.http.get(ga.prefix, params={"q": "status:running"}).json()
    assert [c["status"] for c in running] == ["running"]


def test_message_history_cursors(make_sim: Any) -> None:
    """Section 1.7: newest first; `after_id` alone ascends; limits and cursor order checked."""
    api = Api(make_sim("2.36.0"))
    chat = api.create("First [sim:work=0]").json()
    path = f"{api.prefix}/{chat['id']}/messages"
    for i in range(3):
        sent = api.http.post(
            path, json={"content": [{"type": "text", "text": f"m{i} [sim:work=0]"}]}
        )
        assert sent.status_code == 200
    newest = api.http.get(path).json()["messages"]
    ids = [m["id"] for m in newest]
    assert ids == sorted(ids, reverse=True)
    ascending = api.http.get(path, params={"after_id": ids[-1]}).json()
    assert [m["id"] for m in ascending["messages"]] == sorted(ids)[1:]
    assert ascending["queued_messages"] == []
    page = api.http.get(path, params={"limit": 2}).json()
    assert len(page["messages"]) == 2 and page["has_more"] is True
    assert api.http.get(path, params={"limit": 201}).json() == {
        "message": "Invalid limit parameter (1-200)."
    }
    assert api.http.get(path, params={"after_id": 5, "before_id": 5}).json() == {
        "message": "after_id must be less than before_id."
    }
    prompts = f"{api.prefix}/{chat['id']}/prompts"
    assert api.http.get(prompts, params={"limit": 2001}).json() == {
        "message": "Invalid limit parameter (0-2000)."
    }


def test_organization_scoping_from_v2_33(make_sim: Any) -> None:
    """Sections 1.3 and 7.1: required from v2.33 (PR #23827), membership checked; v2.32
    ignores it."""
    api = Api(make_sim("2.34.2"))
    missing = api.http.post(api.prefix, json={"content": [{"type": "text", "text": "x"}]})
    assert (missing.status_code, missing.json()) == (
        400,
        {"message": "organization_id is required."},
    )
    research = next(o for o in api.server.directory.orgs if o.name == "research")
    foreign = api.create(organization_id=research.id)
    assert (foreign.status_code, foreign.json()["message"]) == (
        403,
        "You are not a member of the specified organization.",
    )
    old = SimServer(coder_version="2.32.1", experiments=("agents",), time_scale=0.05)
    with old:
        http = httpx.Client(base_url=old.url, headers={"Coder-Session-Token": old.token})
        created = http.post(
            "/api/experimental/chats", json={"content": [{"type": "text", "text": "x"}]}
        )
        assert created.status_code == 201
        assert "organization_id" not in created.json()
        assert created.json()["last_error"] is None


def test_owner_only_and_archive_rules(make_sim: Any) -> None:
    """Sections 1.1, 1.4 and 1.9: other users get 404; archive twice is 400; archived chats
    refuse messages; before the v2.35 refactor a busy chat can be archived."""
    server = make_sim("2.34.2")
    api = Api(server)
    chat = api.create().json()
    bob = Api(server, "bob")
    assert bob.http.get(f"{bob.prefix}/{chat['id']}").status_code == 404
    path = f"{api.prefix}/{chat['id']}"
    assert api.http.patch(path, json={"archived": True}).status_code == 204  # busy, pre-refactor
    again = api.http.patch(path, json={"archived": True})
    assert (again.status_code, again.json()) == (400, {"message": "Chat is already archived."})
    sent = api.http.post(f"{path}/messages", json={"content": [{"type": "text", "text": "x"}]})
    assert (sent.status_code, sent.json()) == (
        400,
        {"message": "Cannot send messages to an archived chat."},
    )
    blank = api.create("   ")
    assert (blank.status_code, blank.json()) == (400, {"message": "Invalid input part."})
    none = api.http.post(api.prefix, json={"organization_id": api.org})
    assert (none.status_code, none.json()) == (400, {"message": "Content is required."})


def test_interrupt_rules_after_the_refactor(make_sim: Any) -> None:
    """Section 1.9 and 1.4: `interrupting` then `waiting`; an idle chat is not interruptible;
    `busy_behavior: interrupt` queues the message and interrupts the turn."""
    api = Api(make_sim("2.36.0"))
    chat = api.create().json()
    path = f"{api.prefix}/{chat['id']}"
    sent = api.http.post(
        f"{path}/messages",
        json={
            "content": [{"type": "text", "text": "now [sim:work=0]"}],
            "busy_behavior": "interrupt",
        },
    ).json()
    assert sent["queued"] is True
    deadline = time.monotonic() + 20
    while True:
        history = api.http.get(f"{path}/messages").json()["messages"]
        texts = [(m["role"], m["content"][0]["text"]) for m in reversed(history)]
        if ("user", "now [sim:work=0]") in texts and texts[-1][0] == "assistant":
            break
        assert time.monotonic() < deadline, texts
        time.sleep(0.02)
    interrupted = texts.index(("assistant", "Interrupted while working on: Do it."))
    assert texts.index(("user", "now [sim:work=0]")) == interrupted + 1
    idle = api.create("Quick [sim:work=0]").json()
    refused = api.http.post(f"{api.prefix}/{idle['id']}/interrupt")
    assert (refused.status_code, refused.json()) == (
        409,
        {"message": "Chat is not in an interruptible state."},
    )
