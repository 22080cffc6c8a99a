"""Server-wide behaviour over HTTP: directory endpoints, auth, headers, rate limit, faults."""

from __future__ import annotations

import socket
import time
import uuid
from typing import Any

import httpx
import pytest

from runner.sim.server import SimServer

from .helpers import SimApi

SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."


def test_buildinfo_and_headers(sim: SimServer) -> None:
    response = httpx.get(f"{sim.url}/api/v2/buildinfo")  # no token needed
    info = response.json()
    assert info["version"] == f"v{sim.version}+sim"
    assert info["dashboard_url"] == sim.url
    assert response.headers["X-Coder-Build-Version"] == info["version"]
    missing = httpx.get(f"{sim.url}/api/v2/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Route not found."}
    assert missing.headers["Content-Type"] == "application/json; charset=utf-8"
    assert missing.headers["X-Coder-Build-Version"] == info["version"]
    wrong_method = httpx.put(f"{sim.url}/api/v2/buildinfo")
    assert wrong_method.status_code == 405


def test_users_and_organizations(sim: SimServer) -> None:
    admin, alice, bob = SimApi(sim), SimApi(sim, "alice"), SimApi(sim, "bob")
    me = admin.http.get("/api/v2/users/me").json()
    assert me["username"] == "admin" and me["roles"][0]["name"] == "owner"
    assert alice.http.get("/api/v2/users/bob").json()["username"] == "bob"
    by_id = admin.http.get(f"/api/v2/users/{me['id']}").json()
    assert by_id["id"] == me["id"]
    unknown = admin.http.get("/api/v2/users/ghost")
    assert unknown.status_code == (404 if sim.version.unknown_user_not_found else 400)
    assert [o["name"] for o in admin.http.get("/api/v2/users/me/organizations").json()] == ["coder"]
    alice_orgs = admin.http.get("/api/v2/users/alice/organizations").json()
    assert [o["name"] for o in alice_orgs] == ["coder", "research"]
    # `GET /api/v2/organizations/{org}` is not a route the client uses (CONTRACT 11).
    assert bob.http.get("/api/v2/organizations/research").status_code == 404


def test_templates_versions_and_presets(sim: SimServer) -> None:
    alice = SimApi(sim, "alice")
    orgs = {o["name"]: o["id"] for o in alice.http.get("/api/v2/users/me/organizations").json()}
    ai = alice.http.get(
        "/api/v2/templates", params={"q": f'organization:"{orgs["coder"]}" has-ai-task:true'}
    ).json()
    assert [t["name"] for t in ai] == ["claude-code"]
    everything = alice.http.get("/api/v2/templates").json()
    assert sorted((t["organization_name"], t["name"]) for t in everything) == [
        ("coder", "claude-code"),
        ("coder", "docker"),
        ("research", "claude-code"),
        ("research", "goose"),
    ]
    bad = alice.http.get("/api/v2/templates", params={"q": "colour:blue"})
    assert bad.status_code == 400 and bad.json()["message"] == "Invalid template search query."
    template = alice.http.get("/api/v2/organizations/coder/templates/claude-code").json()
    assert template["display_name"] == "Claude Code"
    v1 = alice.http.get("/api/v2/organizations/coder/templates/claude-code/versions/v1").json()
    assert v1["name"] == "v1" and v1["id"] != template["active_version_id"]
    active = alice.http.get(f"/api/v2/templateversions/{template['active_version_id']}").json()
    # codersdk.TemplateVersion has no has_ai_task (CONTRACT 1.6); AI-ness comes from the list.
    assert active["name"] == "v2" and "has_ai_task" not in active
    nope = alice.http.get("/api/v2/organizations/coder/templates/claude-code/versions/v9")
    assert nope.status_code == 404
    assert nope.json() == {"message": 'No template version found by name "v9".'}
    assert alice.http.get("/api/v2/organizations/coder/templates/nope").status_code == 404
    docker = alice.http.get("/api/v2/organizations/coder/templates/docker").json()
    ai_only = alice.http.get(
        "/api/v2/templates",
        params={"q": f'organization:"{docker["organization_id"]}" has-ai-task:true'},
    ).json()
    assert sorted(t["name"] for t in ai_only) == ["claude-code"]
    presets = alice.http.get(f"/api/v2/templateversions/{v1['id']}/presets").json()
    assert [(p["Name"], p["Default"]) for p in presets] == [("Small", True), ("Large", False)]
    assert set(presets[0]) == {
        "ID",
        "Name",
        "Parameters",
        "Default",
        "DesiredPrebuildInstances",
        "Description",
        "Icon",
    }
    assert presets[0]["Parameters"][0].keys() == {"Name", "Value"}
    invalid = alice.http.get("/api/v2/templateversions/not-a-uuid")
    assert invalid.status_code == 400 and invalid.json() == {
        "message": 'Invalid UUID "not-a-uuid".'
    }


@pytest.mark.parametrize(
    "how", ["header", "bearer", "cookie", "query", "access_token"], ids=lambda h: h
)
def test_every_token_location_works(sim: SimServer, how: str) -> None:
    token = sim.tokens["alice"]
    kwargs: dict[str, Any] = {
        "header": {"headers": {"Coder-Session-Token": token}},
        "bearer": {"headers": {"Authorization": f"Bearer {token}"}},
        "cookie": {"headers": {"Cookie": f"coder_session_token={token}"}},
        "query": {"params": {"coder_session_token": token}},
        "access_token": {"params": {"access_token": token}},
    }[how]
    response = httpx.get(f"{sim.url}/api/v2/users/me", **kwargs)
    assert response.status_code == 200 and response.json()["username"] == "alice"


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        (None, 'Cookie "coder_session_token" or query parameter must be provided.'),
        ("garbage", "Invalid API key format"),
        ("abcdefghij-abcdefghijklmnopqrstuv", "API key is invalid."),
        ("SECRET", "API key secret is invalid."),
    ],
)
def test_bad_tokens_get_401(sim: SimServer, token: str | None, detail: str) -> None:
    if token == "SECRET":
        token = sim.token[:11] + "x" * 22
    headers = {"Coder-Session-Token": token} if token else {}
    response = httpx.get(f"{sim.url}/api/v2/users/me", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["message"] == SIGNED_OUT
    assert body["detail"].startswith(detail)


def test_tokens_look_like_coder_tokens(sim: SimServer) -> None:
    assert set(sim.tokens) == {"admin", "alice", "bob"}
    assert sim.token == sim.tokens["admin"]
    for token in sim.tokens.values():
        token_id, secret = token.split("-")
        assert len(token_id) == 10 and len(secret) == 22


def test_rate_limit(stepped_sim: Any) -> None:
    # Time stands still until the test moves it: all four requests fall in one window.
    server, now = stepped_sim("2.34.2", rate_limit=3)  # window: 60 s * 0.02 = 1.2 s
    api = SimApi(server)
    first = api.http.get("/api/v2/users/me")
    assert first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    assert float(first.headers["X-RateLimit-Reset"]) >= int(now())  # scaled: a decimal
    api.http.get("/api/v2/users/me")
    api.http.get("/api/v2/users/me")
    limited = api.http.get("/api/v2/users/me")
    assert limited.status_code == 429
    assert limited.json() == {
        "message": "You've been rate limited for sending more than 3 requests in 1.2s."
    }
    assert limited.headers["Retry-After"] == "1.2"
    assert limited.headers["Content-Type"] == "application/json; charset=utf-8"
    assert api.http.get("/api/v2/users/me/organizations").status_code == 200  # another path
    for _ in range(5):  # the control routes are never limited
        assert api.http.get(f"{server.url}/__sim/requests").status_code == 200
    # httprate's sliding window still weighs the full window just ended: the budget is whole
    # again once that window has slid out too, a window after the current one ends.
    window = float(limited.headers["Retry-After"])
    now.advance(float(limited.headers["X-RateLimit-Reset"]) + window - now())
    assert api.http.get("/api/v2/users/me").status_code == 200


def test_rate_limit_whole_retry_after_and_disabled(make_sim: Any) -> None:
    from runner.sim.ratelimit import retry_after_text

    assert retry_after_text(SimServer(time_scale=1 / 60).rate_limiter.window) == "1"
    api = SimApi(make_sim("2.34.2", rate_limit=0))
    responses = [api.http.get("/api/v2/users/me") for _ in range(20)]
    assert {r.status_code for r in responses} == {200}
    assert "X-RateLimit-Limit" not in responses[0].headers


def test_fault_before_fails_without_doing_anything(make_sim: Any) -> None:
    server = make_sim("2.34.2")
    api = SimApi(server)
    server.faults.add(method="POST", path=r"/tasks/[^/]+$", when="before", status=503)
    failed = api.create()
    assert failed.status_code == 503
    assert failed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "message" in failed.json()
    assert api.http.get(f"{api.base}/tasks").json()["count"] == 0
    assert api.create().status_code == 201  # times=1: used up


def test_fault_before_with_status_zero_drops_the_connection(make_sim: Any) -> None:
    server = make_sim("2.34.2")
    server.faults.add(method="GET", path="users/me$", status=0)
    with pytest.raises(httpx.TransportError):
        SimApi(server).http.get("/api/v2/users/me")


def test_fault_after_does_the_work_and_loses_the_response(make_sim: Any) -> None:
    server = make_sim("2.28.11")
    api = SimApi(server)
    server.faults.add(method="POST", path="/api/experimental/tasks/me", when="after")
    with pytest.raises(httpx.TransportError):
        api.create("lost response", name="lost")
    listed = api.http.get(f"{api.base}/tasks").json()
    assert [t["name"] for t in listed["tasks"]] == ["lost"]
    log = server.requests
    assert log[-2]["method"] == "POST" and log[-2]["status"] == 201
    assert log[-2]["fault"] == "after"


def test_faults_and_request_log_over_http(make_sim: Any) -> None:
    server = make_sim("2.34.2")
    api = SimApi(server)
    control = httpx.Client(base_url=f"{server.url}/__sim")
    added = control.post(
        "/faults", json={"method": "GET", "path": "organizations", "status": 500, "times": 2}
    )
    assert added.status_code == 201
    assert api.http.get("/api/v2/users/me/organizations").status_code == 500
    control.delete("/faults")
    assert api.http.get("/api/v2/users/me/organizations").status_code == 200
    log = control.get("/requests").json()
    assert [(e["method"], e["path"], e["status"]) for e in log[-2:]] == [
        ("GET", "/api/v2/users/me/organizations", 500),
        ("GET", "/api/v2/users/me/organizations", 200),
    ]
    api.http.get(f"{api.base}/tasks", params={"q": "owner:me"})
    assert control.get("/requests").json()[-1]["query"] == "q=owner%3Ame"
    assert control.post("/reset-log").status_code == 204
    assert control.get("/requests").json() == []
    bad = control.post("/faults", json={"when": "sometimes"})
    assert bad.status_code == 400 and "when" in bad.json()["detail"]
    assert control.post("/faults", json={"colour": "red"}).status_code == 400


def test_chaos_rates(make_sim: Any) -> None:
    failing = make_sim("2.34.2", fail_rate=1.0, seed=3)
    assert SimApi(failing).http.get("/api/v2/users/me").status_code == 503
    losing = make_sim("2.34.2", lose_rate=1.0, seed=3)
    with pytest.raises(httpx.TransportError):
        SimApi(losing).http.get("/api/v2/users/me")


def test_latency_is_added_to_every_request(make_sim: Any) -> None:
    api = SimApi(make_sim("2.34.2", latency_ms=150))
    started = time.monotonic()
    api.http.get("/api/v2/buildinfo")
    assert time.monotonic() - started >= 0.15


def test_constructor_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        SimServer(coder_version="2.27.0")
    with pytest.raises(ValueError):
        SimServer(time_scale=0)
    with pytest.raises(ValueError):
        SimServer(fail_rate=1.5)


def test_stop_releases_the_port() -> None:
    server = SimServer(time_scale=0.02)
    server.start()
    url = server.url
    server.stop()
    server.stop()  # twice is fine
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/api/v2/buildinfo", timeout=1)


def test_ids_are_uuids(sim: SimServer) -> None:
    me = SimApi(sim).http.get("/api/v2/users/me").json()
    assert str(uuid.UUID(me["id"])) == me["id"]


#: More connections at once than Python's default listen backlog (5) queues.
BURST = 64


def test_a_burst_of_connections_waits_for_the_server_rather_than_being_refused() -> None:
    """The simulator listens as Coder's server does: `net.Listen` in `cli/server.go`
    (erickirt/coder c9a1e2bceef354408b890f81bb6b3eb0c6fb1af7) takes Go's backlog, the
    system's `net.core.somaxconn`. With Python's default of 5, a burst of chat creates on a
    starved machine met resets (SYN cookies, then a full accept queue); here the kernel must
    complete every handshake while nothing accepts yet, and each request is answered once
    the server serves."""
    sim = SimServer()
    sim.listen()
    host, port = "127.0.0.1", sim.port
    sockets = []
    try:
        for _ in range(BURST):  # a handshake the kernel cannot queue times out here
            sockets.append(socket.create_connection((host, port), timeout=5))
        for sock in sockets:
            sock.sendall(
                b"GET /api/v2/buildinfo HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n"
            )
        sim.start()
        for sock in sockets:
            sock.settimeout(30)
            assert sock.recv(64).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in sockets:
            sock.close()
        sim.stop()
