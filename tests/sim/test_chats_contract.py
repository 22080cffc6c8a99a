"""Every Chats response of the simulator, validated strictly against `chats-swagger-head.json`.

No property the definition does not list, every property Coder always sends present, per
generation (see tests/chats_schema.py for the deviations and their sources in codersdk).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from chats_schema import chats_validator, load_chats_swagger
from contract_schema import contract_errors
from stepped_time import SteppedTime

from runner.sim.chats.generation import EXPERIMENTAL, V2
from runner.sim.server import SimServer

#: (version, experiments, prefix served)
GENERATIONS = [
    ("2.32.1", ("agents",), EXPERIMENTAL),
    ("2.33.0", ("agents",), EXPERIMENTAL),
    ("2.34.2", (), EXPERIMENTAL),
    ("2.36.0", (), EXPERIMENTAL),
    ("2.37.0", (), V2),
    ("2.38.0", (), V2),
]


class Checker:
    def __init__(self, reference: Path, server: SimServer) -> None:
        self.swagger = load_chats_swagger(reference)
        self.version = (server.version.major, server.version.minor)
        self.checked: set[str] = set()

    def check(self, definition: str, body: Any) -> Any:
        validator = chats_validator(self.swagger, definition, version=self.version)
        items = body if definition == "codersdk.Chat" and isinstance(body, list) else [body]
        for item in items:
            errors = contract_errors(validator, item)
            assert not errors, f"{definition}: {errors}\n{item}"
        self.checked.add(definition)
        return body


def step_until(
    now: SteppedTime,
    step: float,
    probe: Callable[[], Any],
    done: Callable[[Any], bool],
    steps: int = 400,
) -> Any:
    """Move the simulator's time `step` at a time until `probe()` is `done`: each state is seen
    in order, whatever the machine's speed."""
    for _ in range(steps):
        value = probe()
        if done(value):
            return value
        now.advance(step)
    raise AssertionError(f"never reached: {probe()}")


@pytest.mark.parametrize(("version", "experiments", "prefix"), GENERATIONS)
def test_chat_responses_follow_the_swagger(
    reference: Path, stepped_sim: Any, version: str, experiments: tuple[str, ...], prefix: str
) -> None:
    """Checked twice: here per definition, and every exchange by `check_exchanges` (make_sim).
    Time moves only when the test moves it: the 40 s turn still runs, its follow-up still
    queued, however slowly the machine answers."""
    server, now = stepped_sim(version, experiments=experiments, time_scale=0.05)
    step = server.clock.span(1)
    headers = {"Coder-Session-Token": server.token}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        contract = Checker(reference, server)
        org = http.get("/api/v2/users/me/organizations").json()[0]["id"]

        def create(text: str) -> dict[str, Any]:
            body = {
                "organization_id": org,
                "content": [{"type": "text", "text": text}],
                "labels": {"batch": "contract", "item": text[:20]},
            }
            response = http.post(prefix, json=body)
            assert response.status_code == 201, response.text
            return dict(contract.check("codersdk.Chat", response.json()))

        def get(chat: dict[str, Any]) -> dict[str, Any]:
            return dict(contract.check("codersdk.Chat", http.get(f"{prefix}/{chat['id']}").json()))

        pr = create("Open a pull request [sim:pr] [sim:work=40]")
        assert pr["status"] == ("running" if server.version.at_least(2, 35) else "pending")
        queued = http.post(
            f"{prefix}/{pr['id']}/messages",
            json={"content": [{"type": "text", "text": "And a test"}]},
        )
        assert contract.check("codersdk.CreateChatMessageResponse", queued.json())["queued"]
        listing = http.get(prefix, params={"label": "batch:contract"}).json()
        assert [c["id"] for c in contract.check("codersdk.Chat", listing)] == [pr["id"]]
        history = http.get(f"{prefix}/{pr['id']}/messages").json()
        assert contract.check("codersdk.ChatMessagesResponse", history)["queued_messages"]
        done = step_until(
            now, step, lambda: get(pr), lambda c: c["status"] == "waiting" and "diff_status" in c
        )
        assert done["diff_status"]["pull_request_state"] == "open"
        step_until(
            now,
            step,
            lambda: http.get(f"{prefix}/{pr['id']}/messages").json(),
            lambda h: not h["queued_messages"] and h["messages"][0]["role"] == "assistant",
        )
        history = http.get(f"{prefix}/{pr['id']}/messages", params={"after_id": 1}).json()
        contract.check("codersdk.ChatMessagesResponse", history)
        prompts = http.get(f"{prefix}/{pr['id']}/prompts")
        if server.version.at_least(2, 34):  # CHATS-CONTRACT 7.5
            texts = [
                p["text"]
                for p in contract.check("codersdk.ChatPromptsResponse", prompts.json())["prompts"]
            ]
            assert texts == ["And a test", "Open a pull request [sim:pr] [sim:work=40]"]
        else:
            assert prompts.status_code == 404
            assert contract.check("codersdk.Response", prompts.json())["message"] == (
                "Route not found."
            )
        sent = http.post(
            f"{prefix}/{pr['id']}/messages",
            json={"content": [{"type": "text", "text": "[sim:work=50] more"}]},
        )
        assert contract.check("codersdk.CreateChatMessageResponse", sent.json())["queued"] is False
        interrupted = http.post(f"{prefix}/{pr['id']}/interrupt")
        assert interrupted.status_code == 200
        contract.check("codersdk.Chat", interrupted.json())
        step_until(now, step, lambda: get(pr), lambda c: c["status"] == "waiting")
        assert http.patch(f"{prefix}/{pr['id']}", json={"archived": True}).status_code == 204

        failed = create("Break [sim:error] [sim:work=1]")
        failed = step_until(now, step, lambda: get(failed), lambda c: c["status"] == "error")
        error = failed["last_error"]
        if server.version.at_least(2, 34):
            assert contract.check("codersdk.ChatError", error)["message"]
        else:
            assert isinstance(error, str) and error
        needs = create("Ask me [sim:requires-action] [sim:work=1]")
        step_until(now, step, lambda: get(needs), lambda c: c["status"] == "requires_action")

        for response in (
            http.post(
                prefix,
                json={
                    "organization_id": org,
                    "content": [{"type": "text", "text": "x"}],
                    "labels": {"-bad": ""},
                },
            ),
            http.get(prefix, params={"label": "nocolon"}),
            http.get(prefix, params={"q": "bare"}),
            http.get(f"{prefix}/{'0' * 8}-0000-4000-8000-{'0' * 12}"),
            http.get(f"{prefix}/not-a-uuid"),
            http.patch(f"{prefix}/{pr['id']}", json={"archived": True}),
        ):
            assert response.status_code in (400, 404), response.text
            contract.check("codersdk.Response", response.json())
    assert {
        "codersdk.Chat",
        "codersdk.ChatMessagesResponse",
        "codersdk.CreateChatMessageResponse",
        "codersdk.Response",
    } <= contract.checked


def test_workspace_responses_follow_the_swagger(reference: Path, stepped_sim: Any) -> None:
    """Pre-created workspaces: create (201, as `createWorkspace` answers), read, delete build."""
    # Time moves only when the test moves it: the start build (4 simulated seconds) is still
    # running for the 409, however slowly the machine answers.
    server, now = stepped_sim("2.38.0", time_scale=0.5)
    headers = {"Coder-Session-Token": server.token}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        contract = Checker(reference, server)
        template = http.get("/api/v2/organizations/coder/templates/claude-code").json()
        version_id = template["active_version_id"]
        preset = http.get(f"/api/v2/templateversions/{version_id}/presets").json()[1]["ID"]
        body = {
            "name": "nightly-auth",
            "template_version_id": version_id,
            "template_version_preset_id": preset,
        }
        created = http.post("/api/v2/users/me/workspaces", json=body)
        assert created.status_code == 201, created.text
        workspace = contract.check("codersdk.Workspace", created.json())
        assert workspace["latest_build"]["template_version_preset_id"] == preset
        again = http.post("/api/v2/users/me/workspaces", json=body)
        assert again.status_code == 409
        assert contract.check("codersdk.Response", again.json())["message"] == (
            'Workspace "nightly-auth" already exists.'
        )
        read = http.get(f"/api/v2/workspaces/{workspace['id']}")
        contract.check("codersdk.Workspace", read.json())
        busy = http.post(
            f"/api/v2/workspaces/{workspace['id']}/builds", json={"transition": "delete"}
        )
        assert busy.status_code == 409  # the start build is still running
        step_until(
            now,
            server.clock.span(1),
            lambda: http.get(f"/api/v2/workspaces/{workspace['id']}").json(),
            lambda w: w["latest_build"]["job"]["status"] == "succeeded",
        )
        deleted = http.post(
            f"/api/v2/workspaces/{workspace['id']}/builds", json={"transition": "delete"}
        )
        assert deleted.status_code == 201, deleted.text
        assert contract.check("codersdk.WorkspaceBuild", deleted.json())["transition"] == "delete"
        chat = http.post(
            "/api/v2/chats",
            json={
                "organization_id": workspace["organization_id"],
                "content": [{"type": "text", "text": "x"}],
                "workspace_id": str(uuid4()),
            },
        )
        assert chat.status_code == 400
        assert contract.check("codersdk.Response", chat.json())["message"] == (
            "Workspace not found or you do not have access to this resource"
        )


#: (version, experiments, prefix, cost served, models route)
RELEASE_ROUTES = [
    ("2.32.1", ("agents",), EXPERIMENTAL, False, f"{EXPERIMENTAL}/model-configs"),
    ("2.33.0", ("agents",), EXPERIMENTAL, False, f"{EXPERIMENTAL}/model-configs"),
    ("2.35.0", (), EXPERIMENTAL, False, f"{EXPERIMENTAL}/model-configs"),
    ("2.36.0", (), EXPERIMENTAL, True, f"{EXPERIMENTAL}/model-configs"),
    ("2.37.0", (), V2, True, "/api/v2/organizations/coder/chats/models"),
    ("2.38.0", (), V2, True, "/api/v2/organizations/{org}/chats/models"),
]


@pytest.mark.parametrize(("version", "experiments", "prefix", "cost", "models"), RELEASE_ROUTES)
def test_cost_and_model_routes_follow_their_releases(
    make_sim: Any,
    version: str,
    experiments: tuple[str, ...],
    prefix: str,
    cost: bool,
    models: str,
) -> None:
    """CHATS-CONTRACT 7.3 and 7.4; every answer is judged by `check_exchanges` (the overlay of
    tests/chats_contract.py), so a field the contract does not give fails there."""
    server = make_sim(version, experiments=experiments, time_scale=0.05)
    headers = {"Coder-Session-Token": server.token}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        org = http.get("/api/v2/users/me/organizations").json()[0]["id"]
        body = {"organization_id": org, "content": [{"type": "text", "text": "x [sim:work=1]"}]}
        chat = http.post(prefix, json=body).json()
        answer = http.get(f"{prefix}/{chat['id']}/cost")
        if cost:
            assert answer.json() == {
                "chat_id": chat["id"],
                "total_cost_micros": 0,
                "request_count": 0,
                "unpriced_request_count": 0,
            }
        else:
            assert answer.status_code == 404 and answer.json()["message"] == "Route not found."
        listed = http.get(models.format(org=org)).json()
        configs = listed if isinstance(listed, list) else listed["models"]
        default = [c["id"] for c in configs if c["is_default"]]
        assert default == [chat["last_model_config_id"]]
        provider = "ai_provider_id" if server.version.at_least(2, 36) else "provider"
        assert all(provider in c for c in configs)
        # The model a config names is accepted on create.
        other = next(c["id"] for c in configs if not c["is_default"])
        chosen = http.post(prefix, json={**body, "model_config_id": other})
        assert chosen.status_code == 201 and chosen.json()["last_model_config_id"] == other
        if server.version.at_least(2, 37):
            gone = http.get(f"{V2}/model-configs")  # reserved under /api/v2/chats: 404 (1.11)
            assert gone.status_code == 404 and gone.json()["message"] == "Route not found."


@pytest.mark.parametrize("version", ["2.32.1", "2.33.0"])
def test_list_search_keys_follow_their_releases(make_sim: Any, version: str) -> None:
    """CHATS-CONTRACT 7.5: v2.32's `q` takes only `archived:`; `title:` came later."""
    server = make_sim(version, experiments=("agents",), time_scale=0.05)
    headers = {"Coder-Session-Token": server.token}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        assert http.get(EXPERIMENTAL, params={"q": "archived:false"}).status_code == 200
        titled = http.get(EXPERIMENTAL, params={"q": "title:x"})
        if server.version.at_least(2, 33):
            assert titled.status_code == 200
        else:
            assert titled.status_code == 400
            assert titled.json()["message"] == "Invalid chat search query."


@pytest.mark.parametrize(
    ("version", "required"), [("2.32.1", False), ("2.33.0", True), ("2.34.2", True)]
)
def test_organization_id_is_required_from_v2_33(
    make_sim: Any, version: str, required: bool
) -> None:
    """CHATS-CONTRACT 7.1 (PR #23827 is in v2.33); v2.32 ignores the unknown field."""
    server = make_sim(version, experiments=("agents",), time_scale=0.05)
    headers = {"Coder-Session-Token": server.token}
    with httpx.Client(base_url=server.url, headers=headers) as http:
        org = http.get("/api/v2/users/me/organizations").json()[0]["id"]
        content = [{"type": "text", "text": "x [sim:work=1]"}]
        missing = http.post(EXPERIMENTAL, json={"content": content})
        if required:
            assert missing.status_code == 400
            assert missing.json() == {"message": "organization_id is required."}
        else:
            assert missing.status_code == 201 and "organization_id" not in missing.json()
        sent = http.post(EXPERIMENTAL, json={"organization_id": org, "content": content})
        assert sent.status_code == 201
        assert sent.json().get("organization_id") == (org if required else None)


@pytest.mark.parametrize(
    ("version", "title_taken", "owner_taken"),
    [("2.37.0", False, False), ("2.38.0", False, True), ("2.39.0", True, True)],
)
def test_title_and_owner_id_on_create_follow_their_releases(
    make_sim: Any, version: str, title_taken: bool, owner_taken: bool
) -> None:
    """CHATS-CONTRACT 7.5: `owner_id` from v2.38 (PR #29581), `title` from v2.39 (PR #29486, "v2.38
    or v2.39": the v2.39 reference is the first to list it). Older releases ignore both."""
    server = make_sim(version, time_scale=0.05)
    headers = {"Coder-Session-Token": server.token}
    alice = server.directory.find_user("alice")
    with httpx.Client(base_url=server.url, headers=headers) as http:
        me = http.get("/api/v2/users/me").json()["id"]
        org = http.get("/api/v2/users/me/organizations").json()[0]["id"]
        body = {
            "organization_id": org,
            "content": [{"type": "text", "text": "Named by the prompt [sim:work=1]"}],
        }
        # The contract net would flag these fields on releases before theirs, so the raw body
        # goes around it: what is judged here is the simulator's answer.
        titled = http.post(V2, json={**body, "title": "nightly: given"}).json()
        assert titled["title"] == (
            "nightly: given" if title_taken else "Named by the prompt [sim:work=1]"
        )
        owned = http.post(V2, json={**body, "owner_id": alice.id}).json()
        assert owned["owner_id"] == (alice.id if owner_taken else me)
    server.exchanges.clear()  # the bodies above are deliberately early for their release
