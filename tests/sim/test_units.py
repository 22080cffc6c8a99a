"""The simulator's pure parts: versions, names, search syntax, time formats, agent timeline."""

from __future__ import annotations

import random
import re

import pytest
from stepped_time import SteppedTime

from runner.sim.agent import Agent
from runner.sim.apierror import ApiError
from runner.sim.clock import SimClock, go_duration, rfc3339
from runner.sim.directives import parse_directives
from runner.sim.faults import Faults
from runner.sim.names import (
    display_name_from_prompt,
    fallback_name,
    name_from_prompt,
    name_problem,
)
from runner.sim.ratelimit import RateLimiter, retry_after_text
from runner.sim.search import parse_search
from runner.sim.versions import SimVersion, SimVersionError

# Versions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2.27.9", "1.0.0", "two", "2.28", ""])
def test_unsupported_or_malformed_versions_raise(text: str) -> None:
    with pytest.raises(ValueError):
        SimVersion.parse(text)


def test_version_features() -> None:
    v228, v2310, v2311, rc = (
        SimVersion.parse(t) for t in ("v2.28.11", "2.31.0", "2.31.1", "2.32.0-rc.0")
    )
    assert not v228.is_ga and SimVersion.parse("2.29.0").is_ga
    assert not v2310.has_pause and v2311.has_pause
    assert not v2311.busy_is_conflict and rc.busy_is_conflict
    assert rc.maps_failure_to_failed and not v2311.maps_failure_to_failed
    assert SimVersion.parse("2.38.0").tasks_removed and not SimVersion.parse("2.37.9").tasks_removed
    assert (
        SimVersion.parse("2.36.1").tasks_switchable and SimVersion.parse("2.37.0").tasks_switchable
    )
    assert not SimVersion.parse("2.35.1").tasks_switchable
    assert not SimVersion.parse("2.38.0").tasks_switchable


@pytest.mark.parametrize(
    ("version", "switch"), [("2.38.0", True), ("3.0.0", True), ("2.35.1", False), ("2.34.2", False)]
)
def test_a_tasks_switch_the_release_lacks_is_refused(version: str, switch: bool) -> None:
    with pytest.raises(SimVersionError):
        SimVersion.parse(version).serves_tasks(switch)


# Names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a" * 33, "must be <= 32 characters"),
        ("", "must be >= 1 character"),
        ("new", 'cannot use "new" as a name'),
        ("create", 'cannot use "create" as a name'),
        ("has space", "must be alphanumeric with hyphens"),
        ("trailing-", "must be alphanumeric with hyphens"),
        ("double--dash", "must be alphanumeric with hyphens"),
        ("under_score", "must be alphanumeric with hyphens"),
        ("ok-Name-1", None),
        ("a" * 32, None),
    ],
)
def test_name_validation(name: str, problem: str | None) -> None:
    assert name_problem(name) == problem


def test_generated_names() -> None:
    rng = random.Random(1)
    assert re.fullmatch(r"task-[a-z]+-[a-z]+-[0-9a-f]{4}", fallback_name(rng, prefix="task-"))
    name = name_from_prompt("Add authentication to the user service", rng)
    assert re.fullmatch(r"add-authentication-to-the-[0-9a-f]{4}", name)
    assert re.fullmatch(
        r"fix-bug-42-in-api-[0-9a-f]{4}", name_from_prompt("Fix bug #42\nin API!", rng)
    )
    # Nothing usable in the prompt: the fallback without the `task-` prefix.
    assert re.fullmatch(r"[a-z]+-[a-z]+-[0-9a-f]{4}", name_from_prompt("!!! ???", rng))
    for prompt in ("x" * 200, "word " * 40):
        assert name_problem(name_from_prompt(prompt, rng)) is None


def test_display_names() -> None:
    assert display_name_from_prompt("add tests") == "Add tests"
    long = display_name_from_prompt("word " * 30)
    assert len(long) <= 64 and long.endswith("…") and long.startswith("Word")


# Search syntax ------------------------------------------------------------------------------

ALLOWED = ("owner", "organization", "status")


def _details(query: str) -> list[tuple[str, str]]:
    with pytest.raises(ApiError) as caught:
        parse_search(query, allowed=ALLOWED, message="Invalid task search query.")
    assert caught.value.status == 400
    assert caught.value.message == "Invalid task search query."
    return [(v.field, v.detail) for v in caught.value.validations]


def test_search_parses_quoted_lowercased_terms() -> None:
    terms = parse_search('OWNER:"Me" status:"active"', allowed=ALLOWED, message="m")
    assert terms == {"owner": "me", "status": "active"}
    assert parse_search("", allowed=ALLOWED, message="m") == {}
    assert parse_search("alice", allowed=ALLOWED, message="m") == {"owner": "alice"}


def test_search_errors() -> None:
    assert _details("foo:bar") == [("foo", '"foo" is not a valid query param')]
    assert _details(":owner") == [("q", "Query element \":owner\" cannot start or end with ':'")]
    assert _details("owner:") == [("q", "Query element \"owner:\" cannot start or end with ':'")]
    assert _details("a:b:c") == [("q", "Query element \"a:b:c\" can only contain 1 ':'")]
    ((field, detail),) = _details("owner:a owner:b")
    assert field == "owner"
    assert detail.startswith('Query param "owner" provided more than once, found 2 times.')


# Time formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60, "1m0s"), (1.2, "1.2s"), (30, "30s"), (0.5, "500ms"), (3600, "1h0m0s"), (90.5, "1m30.5s")],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_retry_after_text() -> None:
    assert retry_after_text(60.0) == "60"
    assert retry_after_text(1.2) == "1.2"
    assert retry_after_text(1.0000000001) == "1"


def test_rfc3339() -> None:
    assert rfc3339(0.5) == "1970-01-01T00:00:00.500000Z"


# Rate limiter -------------------------------------------------------------------------------


def test_rate_limiter_sliding_window() -> None:
    fake = SteppedTime(1_000_000.0)
    limiter = RateLimiter(2, SimClock(0.02, fake))  # window: 1.2 s
    assert limiter.check("1.2.3.4", "/a").allowed
    fake.now += 0.5
    assert limiter.check("1.2.3.4", "/a").allowed
    denied = limiter.check("1.2.3.4", "/a")
    assert not denied.allowed
    assert denied.message == "You've been rate limited for sending more than 2 requests in 1.2s."
    assert denied.headers["Retry-After"] == "1.2"
    assert denied.headers["X-RateLimit-Remaining"] == "0"
    assert limiter.check("1.2.3.4", "/b").allowed  # another path has its own window
    assert limiter.check("5.6.7.8", "/a").allowed  # another client too
    fake.now += 0.75  # the first hit has left the window
    assert limiter.check("1.2.3.4", "/a").allowed
    assert not RateLimiter(0, SimClock(1.0, fake)).check("x", "/a").headers


# Faults -------------------------------------------------------------------------------------


def test_fault_rules_match_and_expire() -> None:
    faults = Faults()
    faults.add(method="POST", path=r"/tasks/", when="after", times=2, status=0)
    assert faults.take("GET", "/api/v2/tasks/me") is None
    assert faults.take("POST", "/api/v2/tasks/me") is not None
    assert faults.take("POST", "/api/v2/tasks/me") is not None
    assert faults.take("POST", "/api/v2/tasks/me") is None
    with pytest.raises(ValueError):
        faults.add(when="during")
    with pytest.raises(ValueError):
        Faults(fail_rate=2.0)


def test_chaos_rates_are_seeded() -> None:
    def sample(seed: int) -> list[bool]:
        faults = Faults(fail_rate=0.5, seed=seed)
        return [faults.take("GET", "/x") is not None for _ in range(50)]

    assert sample(7) == sample(7)
    assert 5 < sum(sample(7)) < 45
    always = Faults(lose_rate=1.0)
    fault = always.take("GET", "/x")
    assert fault is not None and fault.when == "after"


# The agent ----------------------------------------------------------------------------------


def test_directives() -> None:
    assert parse_directives("plain").final_state == "idle"
    assert parse_directives("x [sim:complete]").final_state == "complete"
    assert parse_directives("x [sim:fail]").final_state == "failure"
    assert parse_directives("[sim:work=2.5] x").work_seconds == 2.5
    assert parse_directives("[sim:silent]").silent
    assert parse_directives("[sim:build-fail]").build_fails


def test_agent_works_in_two_steps_with_an_idle_blip() -> None:
    fake = SteppedTime(1_000_000.0)
    clock = SimClock(1.0, fake)
    agent = Agent()
    start = fake.now
    agent.receive(clock, start, "Refactor the parser")
    states = [(round(r.at - start, 3), r.state) for r in agent.reports]
    assert states == [(0, "working"), (2.0, "idle"), (2.3, "working"), (4.3, "idle")]
    assert agent.is_busy(start + 1) and not agent.is_busy(start + 2.1)
    assert agent.is_busy(start + 3) and not agent.is_busy(start + 4.3)
    assert [m.role for m in agent.messages_until(start + 1)] == ["user"]
    assert [m.role for m in agent.messages_until(start + 5)] == ["user", "agent"]


def test_new_input_cuts_off_planned_work() -> None:
    fake = SteppedTime(1_000_000.0)
    clock = SimClock(1.0, fake)
    agent = Agent()
    agent.receive(clock, fake.now, "first [sim:work=10]")
    agent.cut_future(fake.now + 5.1)  # during the idle blip
    agent.receive(clock, fake.now + 5.1, "second [sim:work=0] [sim:complete]")
    assert [m.content for m in agent.messages][:2] == [
        "first [sim:work=10]",
        "second [sim:work=0] [sim:complete]",
    ]
    assert agent.reports[-1].state == "complete"
    assert not agent.is_busy(fake.now + 6)


def test_silent_agent_never_reports() -> None:
    fake = SteppedTime(1_000_000.0)
    agent = Agent()
    agent.receive(SimClock(1.0, fake), fake.now, "[sim:silent] hush")
    assert agent.reports == []
    assert agent.is_busy(fake.now + 1)
    assert agent.messages[-1].role == "agent"
