"""How a simulated Coder Agents chat reacts to a user message, steered by `[sim:…]` directives.

Without directives a turn runs about 4 simulated seconds (one `execute` tool call and its result,
then an assistant reply) and the chat goes back to `waiting`. Directives, anywhere in a message:

- `[sim:work=N]`: the turn runs N simulated seconds.
- `[sim:error]`: the turn ends in `error` with a `last_error` (a new message clears it).
- `[sim:requires-action]`: the turn ends in `requires_action`, waiting for a client tool result.
- `[sim:pr]`: the agent opens a pull request; the chat's `diff_status` shows it after the turn.
- `[sim:subagent]` (on create): the agent starts one sub-agent chat, idle, under the new chat;
  `[sim:subagent=N]`: the sub-agent works on a delegated task for N simulated seconds (from when
  a capacity slot takes it up, on a capped deployment), whatever its root does meanwhile.
- `[sim:turns=B1,B2,...]` (on create): how the chat's successive turns end, as for the Tasks
  agent (runner/sim/directives.py): `fail` ends the turn in `error`, `stall` works an hour,
  `tests-fail` and `tests-pass` change the reply; each chat counts its own turns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from runner.sim.directives import STALL_SECONDS, TEST_REPLIES, parse_directives


@dataclass(frozen=True)
class ChatDirectives:
    """What a user message asks of the simulated chat agent."""

    work_seconds: float
    outcome: str  # waiting | error | requires_action
    opens_pr: bool
    #: `[sim:subagent]`: 0.0 (an idle sub-agent) or its seconds of work; None: no sub-agent.
    subagent: float | None = None
    reply: str | None = None  # what the agent says instead of its usual reply


def scripted(directives: ChatDirectives, behaviour: str) -> ChatDirectives:
    """`directives` as a `[sim:turns=…]` behaviour changes them for one turn."""
    if behaviour == "fail":
        return replace(directives, outcome="error")
    if behaviour == "stall":
        return replace(directives, work_seconds=STALL_SECONDS)
    return replace(directives, reply=TEST_REPLIES.get(behaviour))


def parse_chat_directives(text: str) -> ChatDirectives:
    """Read the chat directives in `text`; `[sim:work=N]` is shared with the Tasks agent."""
    outcome = "waiting"
    if "[sim:error]" in text:
        outcome = "error"
    elif "[sim:requires-action]" in text:
        outcome = "requires_action"
    found = _SUBAGENT.search(text)
    return ChatDirectives(
        work_seconds=parse_directives(text).work_seconds,
        outcome=outcome,
        opens_pr="[sim:pr]" in text,
        subagent=float(found.group(1) or 0) if found else None,
    )


_SUBAGENT = re.compile(r"\[sim:subagent(?:=(\d+(?:\.\d+)?))?\]")


def plain_text(text: str) -> str:
    """The message without directives, shortened for replies and titles of pull requests."""
    plain = " ".join(part for part in text.split() if not part.startswith("[sim:"))
    first = plain.strip() or "the request"
    return first if len(first) <= 60 else first[:57] + "..."
