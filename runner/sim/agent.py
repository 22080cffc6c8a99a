"""The simulated AI agent: its transcript (AgentAPI messages), its status reports, and when it
is busy. Everything is laid out ahead as timestamped events and read back through `now`, so a
later input or a pause simply cuts off the events that have not happened yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from runner.sim.clock import SimClock
from runner.sim.directives import (
    IDLE_BLIP_SECONDS,
    STALL_SECONDS,
    TEST_REPLIES,
    parse_directives,
)


@dataclass(frozen=True)
class Report:
    """An app status report (`PATCH /workspaceagents/me/app-status`)."""

    at: float
    state: str  # working | idle | complete | failure
    message: str
    uri: str = ""  # a link the agent reports with its state (CONTRACT 2.2)


@dataclass(frozen=True)
class Message:
    """An AgentAPI message: `user` input or `agent` output."""

    at: float
    role: str
    content: str


@dataclass
class Agent:
    """One task's agent across the task's life (it survives pause and resume)."""

    reports: list[Report] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    busy: list[tuple[float, float]] = field(default_factory=list)

    def reports_until(self, now: float) -> list[Report]:
        return [r for r in self.reports if r.at <= now]

    def messages_until(self, now: float) -> list[Message]:
        return [m for m in self.messages if m.at <= now]

    def is_busy(self, now: float) -> bool:
        """AgentAPI `/status` is `running` (not `stable`) while the agent works."""
        return any(start <= now < end for start, end in self.busy)

    def cut_future(self, now: float) -> None:
        """Forget what was planned after `now` (a new input or a pause interrupts it)."""
        self.reports = [r for r in self.reports if r.at <= now]
        self.messages = [m for m in self.messages if m.at <= now]
        self.busy = [(start, min(end, now)) for start, end in self.busy if start <= now]

    def receive(
        self,
        clock: SimClock,
        at: float,
        text: str,
        behaviour: str = "ok",
        pull_request: Callable[[], int] = lambda: 101,
    ) -> None:
        """Take `text` as user input at `at` and plan the work it causes, ending as
        `behaviour` (a `[sim:turns=…]` entry) says; `pull_request` numbers one it opens."""
        self.messages.append(Message(at, "user", text))
        self._plan_work(clock, at, text, behaviour, pull_request)

    def report(self, at: float, state: str, message: str, uri: str = "") -> None:
        self.reports.append(Report(at, state, message, uri))

    def _plan_work(
        self,
        clock: SimClock,
        start: float,
        text: str,
        behaviour: str,
        pull_request: Callable[[], int],
    ) -> None:
        directives = parse_directives(text)
        summary = TEST_REPLIES.get(behaviour, _summary(text))
        seconds = STALL_SECONDS if behaviour == "stall" else directives.work_seconds
        work = clock.span(seconds)
        blip = clock.span(IDLE_BLIP_SECONDS) if work > 0 else 0.0
        half = work / 2
        end = start + work + blip
        if work > 0:
            self.busy.append((start, start + half))
            self.busy.append((start + half + blip, end))
            if not directives.silent:
                self.report(start, "working", f"Step 1 of 2: looking into {summary}")
                self.report(start + half, "idle", "Waiting for the next step")
                self.report(start + half + blip, "working", f"Step 2 of 2: working on {summary}")
        final = "failure" if behaviour == "fail" else directives.final_state
        # One repository for every task: each pull request has a number of its own.
        pr_url = ""
        if directives.opens_pr:
            pr_url = f"https://github.com/example/repo/pull/{pull_request()}"
        if not directives.silent:
            verb = {"idle": "Done", "complete": "Completed", "failure": "Failed"}[final]
            self.report(end, final, f"{verb}: {summary}", pr_url)
        reply = {
            "idle": f"I worked on: {summary}. What next?",
            "complete": f"Finished: {summary}.",
            "failure": f"I could not finish: {summary}.",
        }[final]
        if pr_url:
            reply += f" Pull request: {pr_url}"
        self.messages.append(Message(end, "agent", reply + _long_output(directives.output_kib)))


def _long_output(kib: int) -> str:
    """About `kib` KiB of terminal-like lines after the reply (`[sim:output-kib=N]`)."""
    line = "\n  ... working through the change, line {:05d} of the agent's terminal output"
    lines = []
    size = 0
    number = 0
    while size < kib * 1024:
        number += 1
        text = line.format(number)
        lines.append(text)
        size += len(text)
    return "".join(lines)


def _summary(text: str) -> str:
    """The first line of an input without directives, short enough for a status message."""
    plain = " ".join(part for part in text.split() if not part.startswith("[sim:"))
    first = plain.strip() or "the request"
    return first if len(first) <= 60 else first[:57] + "..."
