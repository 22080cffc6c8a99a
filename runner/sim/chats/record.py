"""A chat as the simulator stores it, and how it moves along in time.

Nothing runs in the background: a chat keeps its current turn (start, planned end, directives)
and `advance(now)` settles whatever has finished by `now` (the assistant's messages, the final
status, the next queued message), in order, whenever the chat is read or written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.sim.chats.directives import (
    ChatDirectives,
    parse_chat_directives,
    plain_text,
    scripted,
)
from runner.sim.clock import SimClock
from runner.sim.directives import turn_behaviour

#: Simulated seconds a pre-refactor chat stays `pending` before a worker picks it up.
PICKUP_SECONDS = 0.5
#: Simulated seconds an interrupted turn takes to commit its partial output (v2.35+).
INTERRUPT_SETTLE_SECONDS = 1.0
#: Messages that may wait in a chat's queue (`Message queue is full.` beyond).
MAX_QUEUED = 20


@dataclass
class StoredMessage:
    id: int
    role: str  # user | assistant | tool
    parts: list[dict[str, Any]]
    at: float
    created_by: str | None = None
    #: The model of the turn (CHATS-CONTRACT 7.3: each `ChatMessage` carries one); None on
    #: workspace context.
    model_config_id: str | None = None


@dataclass
class QueuedMessage:
    id: int
    text: str
    at: float
    created_by: str
    model_config_id: str | None = None  # the send's; None keeps the chat's model


@dataclass
class Turn:
    """The agent's work on one user message."""

    text: str
    start: float
    end: float  # infinite while the turn waits for a capacity slot
    directives: ChatDirectives
    model_config_id: str
    work: float = 0.0  # simulated seconds of work, from admission on
    interrupted_at: float | None = None
    settle_at: float | None = None
    #: When a worker took the turn up; None while it is queued for capacity (runner/sim/chats/
    #: capacity.py). Without a capacity limit, at once.
    admitted_at: float | None = None

    @property
    def finishes_at(self) -> float:
        return self.settle_at if self.settle_at is not None else self.end

    @property
    def queued_for_capacity(self) -> bool:
        return self.admitted_at is None and self.interrupted_at is None

    def admit(self, at: float) -> None:
        self.admitted_at = at
        self.end = at + self.work


@dataclass
class PullRequest:
    number: int
    title: str
    head_branch: str
    at: float


@dataclass
class ChatRecord:
    id: str
    owner_id: str
    org_id: str
    title: str
    labels: dict[str, str]
    model_config_id: str
    client_type: str
    created_at: float
    updated_at: float
    workspace_id: str | None = None
    build_id: str | None = None
    agent_id: str | None = None
    archived: bool = False
    messages: list[StoredMessage] = field(default_factory=list)
    queue: list[QueuedMessage] = field(default_factory=list)
    turn: Turn | None = None
    outcome: str = "waiting"  # the status while no turn runs
    last_error: str | None = None
    pull_request: PullRequest | None = None
    #: `last_turn_summary`: Coder labels each finished turn for its sidebar, from the final
    #: assistant text, and clears the label on error (`maybeFinalizeTurnStatusLabelAndPush` in
    #: `coderd/x/chatd/chatd.go`, erickirt/coder main c9a1e2bc; added by #24942, 2026-05-06).
    #: The model writes that label; the simulator takes the reply itself.
    turn_summary: str | None = None
    injected_context: list[dict[str, Any]] | None = None  # `last_injected_context`
    parent_id: str | None = None  # set on a sub-agent chat: its root chat
    first_prompt: str = ""  # the text of its first turn: a `[sim:turns=…]` script
    turns: int = 0  # turns started
    #: The model requests of its finished turns, one per turn: what the AI Gateway records and
    #: `GET {P}/{chat}/cost` sums (CHATS-CONTRACT 7.4).
    requests: int = 0
    #: (start, end) of each finished turn, for tests that check how many chats worked at once.
    worked: list[tuple[float, float]] = field(default_factory=list)

    # -- time --------------------------------------------------------------------------------

    def advance(
        self, now: float, clock: SimClock, next_id: Callable[[], int], *, hold: bool = False
    ) -> None:
        """Settle every turn that finished by `now`, promoting queued messages in order; with
        `hold`, a promoted turn waits for a capacity slot instead of starting at once."""
        while self.turn is not None and self.turn.finishes_at <= now:
            turn = self.turn
            self.turn = None
            self._finish(turn, next_id)
            if self.outcome == "waiting" and self.queue:
                head = self.queue.pop(0)
                self.start_turn(
                    head.text,
                    turn.finishes_at,
                    clock,
                    next_id,
                    head.created_by,
                    model_config_id=head.model_config_id,
                    hold=hold,
                )

    def start_turn(
        self,
        text: str,
        at: float,
        clock: SimClock,
        next_id: Callable[[], int],
        user_id: str,
        *,
        model_config_id: str | None = None,
        hold: bool = False,
    ) -> StoredMessage:
        """Insert the user message at `at` and plan the agent's work on it; a model given
        switches the chat to it for this turn and later ones (CHATS-CONTRACT 7.3). With `hold`
        the work waits for `Turn.admit` (a capacity slot)."""
        if model_config_id:
            self.model_config_id = model_config_id
        model = self.model_config_id
        message = StoredMessage(next_id(), "user", [text_part(text)], at, user_id, model)
        self.messages.append(message)
        if not self.turns:
            self.first_prompt = text
        behaviour = turn_behaviour(self.first_prompt, self.turns)
        self.turns += 1
        directives = scripted(parse_chat_directives(text), behaviour)
        work = clock.span(directives.work_seconds)
        self.turn = Turn(text, at, float("inf"), directives, model, work=work)
        if not hold:
            self.turn.admit(at)
        self.outcome = "waiting"
        self.last_error = None
        self.updated_at = at
        return message

    def inject_context(self, at: float, next_id: Callable[[], int]) -> None:
        """Store the bound workspace's context as Coder v2.32 to v2.34 do, once per agent: a
        `user` message of `context-file` and `skill` parts, no text part, no `created_by`
        (CHATS-CONTRACT 7.2; `release/2.32` chatd.go, about line 5255). The simulated agent is
        up from the first turn on (a turn here never waits for it)."""
        if self.agent_id is None or self.injected_context is not None:
            return
        parts = [
            context_file_part("/home/coder/project/AGENTS.md", self.agent_id),
            skill_part("run-tests", "Run the project's test suite."),
        ]
        self.messages.append(StoredMessage(next_id(), "user", parts, at))
        self.injected_context = parts

    def status(self, now: float, *, state_refactor: bool, clock: SimClock) -> str:
        """The chat's status at `now` (call `advance` first)."""
        turn = self.turn
        if turn is None:
            return self.outcome
        if turn.interrupted_at is not None:
            return "interrupting"
        if not state_refactor and now < turn.start + clock.span(PICKUP_SECONDS):
            return "pending"
        return "running"

    def interrupt(self, now: float, clock: SimClock, *, settle: bool) -> None:
        """Stop the running turn: at once, or (v2.35+) after `interrupting` settles."""
        turn = self.turn
        if turn is None:
            self.outcome = "waiting"
            return
        turn.interrupted_at = now
        turn.settle_at = now + (clock.span(INTERRUPT_SETTLE_SECONDS) if settle else 0.0)

    # -- the agent's output ------------------------------------------------------------------

    def _finish(self, turn: Turn, next_id: Callable[[], int]) -> None:
        at = turn.finishes_at
        self.requests += 1
        self.worked.append((turn.start, at))
        summary = plain_text(turn.text)
        model = turn.model_config_id  # every message of the turn carries it (7.3)
        self.updated_at = at
        if turn.interrupted_at is not None:
            reply = f"Interrupted while working on: {summary}."
            self.messages.append(
                StoredMessage(next_id(), "assistant", [text_part(reply)], at, None, model)
            )
            self.outcome = "waiting"
            return
        call_id = f"call_{next_id()}"
        command = {"command": f"grep -rn TODO . # {summary}"}
        self.messages.append(
            StoredMessage(
                next_id(), "assistant", [_tool_call(call_id, "execute", command)], at, None, model
            )
        )
        self.messages.append(
            StoredMessage(
                next_id(), "tool", [_tool_result(call_id, "execute", "exit 0")], at, None, model
            )
        )
        directives = turn.directives
        if directives.outcome == "error":
            self.outcome = "error"
            self.last_error = f"The model provider failed while working on: {summary}."
            self.turn_summary = None
            return
        if directives.outcome == "requires_action":
            tool = _tool_call(f"call_{next_id()}", "client_tool", {"question": summary})
            self.messages.append(StoredMessage(next_id(), "assistant", [tool], at, None, model))
            self.outcome = "requires_action"
            self.turn_summary = "Waiting for user input"  # `fallbackTurnStatusLabel`, quickgen.go
            return
        reply = directives.reply or f"I worked on: {summary}. What next?"
        message_id = next_id()
        if directives.opens_pr and self.pull_request is None:
            # One repository for every chat, where a pull request's number is its own
            # (`diff_status.pr_number` and `url`, CHATS-CONTRACT 1.2): numbered from the reply's
            # message id, which no other chat of the deployment shares.
            number = 100 + message_id
            self.pull_request = PullRequest(number, summary, f"agent/{number}", at)
            reply = f"I opened pull request #{number} for: {summary}."
        self.messages.append(
            StoredMessage(message_id, "assistant", [text_part(reply)], at, None, model)
        )
        self.outcome = "waiting"
        self.turn_summary = reply


def _part(kind: str, text: str = "", **tool: Any) -> dict[str, Any]:
    """A `ChatMessagePart` as Go encodes it: codersdk has no per-variant marshaller, so every
    field without `omitempty` is present on every part (codersdk/chats.go at the contract's HEAD).
    """
    part: dict[str, Any] = {"type": kind, "text": text, **tool}
    part.update(
        {
            "url": "",
            "media_type": "",
            "file_name": "",
            "start_line": 0,
            "end_line": 0,
            "content": "",
            "context_file_path": "",
            "skill_name": "",
        }
    )
    return part


def text_part(text: str) -> dict[str, Any]:
    return _part("text", text)


def context_file_part(path: str, agent_id: str) -> dict[str, Any]:
    """A `context-file` part as the API sends it: the file's content is stripped
    (`context_file_content` is internal; chats-swagger-head.json, `ChatMessagePart`)."""
    part = _part("context-file")
    part.update({"context_file_path": path, "context_file_agent_id": agent_id})
    return part


def skill_part(name: str, description: str) -> dict[str, Any]:
    """A `skill` part: a skill found in the workspace's `.agents/skills/`."""
    part = _part("skill")
    part.update({"skill_name": name, "skill_description": description})
    return part


def _tool_call(call_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    # `args` is a json.RawMessage in codersdk: raw JSON on the wire.
    return _part("tool-call", tool_call_id=call_id, tool_name=name, args=args)


def _tool_result(call_id: str, name: str, output: str) -> dict[str, Any]:
    return _part("tool-result", tool_call_id=call_id, tool_name=name, result={"output": output})
