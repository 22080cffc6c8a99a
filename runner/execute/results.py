"""What an apply did, per task: the values reports and the result table are made from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from runner.errors import TasksError
from runner.item import Cost, PullRequest
from runner.money import usd


class Outcome(str, Enum):
    """How one task ended."""

    OK = "ok"  # converged (and, where asked, waited for)
    DELETED = "deleted"
    UNCHANGED = "unchanged"  # nothing to do
    DRIFTED = "drifted"  # differs from the manifest; left as it is
    BLOCKED = "blocked"  # its name is held by a task the batch does not own
    FAILED = "failed"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    UNKNOWN = "unknown"  # contact with the deployment was lost before the task ended
    SKIPPED = "skipped"  # not created, or a follow-up not sent: the batch's budget was reached

    @property
    def is_failure(self) -> bool:
        return self in (Outcome.FAILED, Outcome.BLOCKED)


@dataclass(frozen=True)
class Expectation:
    """One `expect:` check of a task's result: what was wanted, what was found, and whether they
    agree."""

    check: str  # pull_request | message | max_cost
    want: str
    got: str
    met: bool

    def one_line(self) -> str:
        """`pull_request: wanted opened, got none`."""
        return f"{self.check}: wanted {self.want}, got {self.got}"


@dataclass(frozen=True)
class TaskResult:
    """One task's record of the run, as it stands: a value, never changed in place. A run
    replaces it as it goes (runner/execute/record.py, the one writer); it is final once
    `outcome` is set and the phases after the run (details, expectations, clean-up) are done."""

    name: str
    owner: str
    coder_name: str
    action: str  # the plan action: create, send, replace, delete, noop, drift, conflict
    task_id: str | None = None
    outcome: Outcome | None = None
    status: str = ""
    state: str = ""
    message: str = ""
    error: str = ""
    link: str = ""
    done: tuple[str, ...] = ()  # what was done, in order
    pull_request: PullRequest | None = None
    last_message: str = ""  # what the agent said last (see ItemDetails)
    details_read: bool = False  # pull_request and last_message hold what Coder said
    cost: Cost | None = None  # read once the run ends (see ItemDetails); None: not known
    model: str = ""  # the chat model the task names ("": the deployment's default)
    expectations: tuple[Expectation, ...] = ()  # in `expect:` order
    follow_ups_sent: int = 0
    #: What `after:` did once the outcome was final ("stopped", "removed"), or why it did not.
    clean_up: str = ""
    attempts: int = 1  # the first try and each retry, as read back from the deployment
    started_at: float | None = None  # wall-clock seconds since the epoch
    wait_started_at: float | None = None
    finished_at: float | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    @property
    def unmet(self) -> list[Expectation]:
        """The expectations the result did not meet."""
        return [e for e in self.expectations if not e.met]


@dataclass(frozen=True)
class Event:
    """Something that happened to one task, for progress output (the library never prints):
    the task's plan index (what a live view keys its rows by) and its result as it was then."""

    index: int
    result: TaskResult
    text: str
    final: bool = False
    status_only: bool = False  # the task's status or state changed; nothing was done


@dataclass(frozen=True)
class Notice:
    """Something about the whole run, not one task: progress counts, or failing polls."""

    text: str
    warning: bool = False  # a problem (stderr), not progress


@dataclass(frozen=True)
class ApplyReport:
    """Every task's result, in plan order, and whether the run was interrupted."""

    batch: str
    results: tuple[TaskResult, ...]
    interrupted: bool = False
    #: Why the run stopped before its tasks ended (lost contact, a revoked token), if it did.
    stopped: TasksError | None = None
    server_version: str = ""
    dashboard_url: str = ""

    @property
    def pull_requests(self) -> list[tuple[TaskResult, PullRequest]]:
        """The pull requests the batch's agents opened, in plan order."""
        return [(r, r.pull_request) for r in self.results if r.pull_request is not None]

    #: The batch's `defaults.budget` in US dollar micros, when it has one.
    budget_micros: int | None = None

    @property
    def cost(self) -> Cost | None:
        """What the batch's chats cost together, as far as known; None when no cost is."""
        known = [r.cost for r in self.results if r.cost is not None]
        return sum(known[1:], known[0]) if known else None

    def cost_line(self) -> str | None:
        """`Cost: $1.20 (3 requests, 0 unpriced) of a $1.00 budget.`; None when no cost is known."""
        cost = self.cost
        if cost is None:
            return None
        line = f"Cost: {cost.usd} ({cost.requests} requests, {cost.unpriced_requests} unpriced)"
        if self.budget_micros is not None:
            line += f" of a {usd(self.budget_micros)} budget"
        return line + "."

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def summary(self, command_name: str = "apply") -> str:
        """`Apply: 3 ok, 1 deleted, 2 unchanged, 0 failed, 0 timed out.` (plus other outcomes).

        Headed by the command that ran: `destroy` gives `Destroy: ...`.
        """
        parts = [
            f"{self.count(Outcome.OK)} ok",
            f"{self.count(Outcome.DELETED)} deleted",
            f"{self.count(Outcome.UNCHANGED)} unchanged",
            f"{self.count(Outcome.FAILED)} failed",
            f"{self.count(Outcome.TIMEOUT)} timed out",
        ]
        for outcome, label in (
            (Outcome.DRIFTED, "drifted"),
            (Outcome.BLOCKED, "blocked"),
            (Outcome.INTERRUPTED, "interrupted"),
            (Outcome.UNKNOWN, "unknown"),
            (Outcome.SKIPPED, "skipped"),
        ):
            if self.count(outcome):
                parts.append(f"{self.count(outcome)} {label}")
        return f"{command_name.capitalize()}: {', '.join(parts)}."
