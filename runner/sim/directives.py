"""How the simulated agent reacts to an input, steered by directives written into the input.

Without directives the agent works about 4 simulated seconds in two steps, reporting `working`
with a message; between the steps it reports `idle` for 0.3 s while its AgentAPI is `stable`
(a send in that moment is accepted and cuts the rest of the work short, as with a real agent).
While it works, AgentAPI is `running`, so a send gets the busy-agent error. At the end it reports
`idle` and its reply appears in the logs as `output`.

Directives (anywhere in a prompt or a sent input):

- `[sim:complete]`: after working, report `complete` instead of `idle`.
- `[sim:fail]`: after working, report a failure (`failure` before v2.32, `failed` from v2.32).
- `[sim:work=N]`: work N simulated seconds instead of the default 4.
- `[sim:silent]`: never report any state; `current_state` stays as it was (null for a new task).
- `[sim:build-fail]`: in a create prompt, the start build job fails (task status `error`).
- `[sim:output-kib=N]`: the agent's reply to this input is about N KiB of terminal text (real
  agents' output can be long; CONTRACT 3.2), so a log snapshot may leave early messages out.
- `[sim:no-snapshot]`: in a create prompt, the agent never manages to upload a log snapshot when
  the task pauses, so logs answer `{"logs": [], "snapshot": true}` (CONTRACT 3.2).
- `[sim:pr]`: the agent opens a pull request and links it as the `uri` of its final status
  report (the app-status body carries a `uri`, CONTRACT 2.2), so `current_state.uri` shows it.
- `[sim:autopause=N]`: in a create prompt, the workspace's TTL runs out N simulated seconds
  after the agent's first piece of work ends: the lifecycle executor stops the workspace once
  (build reason `task_auto_pause` from v2.31.1, `autostop` before; `coderd/autobuild/
  lifecycle_executor.go` at main a12b0518), and the task reads as paused.
- `[sim:turns=B1,B2,...]`: in a create prompt, how the agent's successive turns on that piece of
  work end, one behaviour each (a flaky agent, scripted): `ok` (as the input asks), `fail` (the
  turn fails), `stall` (it works for an hour), `tests-fail` or `tests-pass` (it finishes saying
  the tests still fail, or all pass). Turns past the list are `ok`. A task's turns are its
  prompt and each input; a task created again by the same owner from the same prompt takes up
  the list where the last one left off (the same work, tried again). See `turn_behaviour`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_WORK_SECONDS = 4.0
#: The moment of `idle` an agent reports between its two steps.
IDLE_BLIP_SECONDS = 0.3

_WORK = re.compile(r"\[sim:work=(\d+(?:\.\d+)?)\]")
_OUTPUT = re.compile(r"\[sim:output-kib=(\d+)\]")
_AUTOPAUSE = re.compile(r"\[sim:autopause=(\d+(?:\.\d+)?)\]")
_TURNS = re.compile(r"\[sim:turns=([a-z,-]+)\]")
#: What `[sim:turns=…]` may script for one turn.
TURN_BEHAVIOURS = ("ok", "fail", "stall", "tests-fail", "tests-pass")
#: How long a `stall` turn works.
STALL_SECONDS = 3600.0
#: What the agent says when a scripted turn ran the tests.
TEST_REPLIES = {"tests-fail": "I ran the tests: 2 still fail.", "tests-pass": "All tests pass."}


@dataclass(frozen=True)
class Directives:
    """What an input asks of the simulated agent and the build."""

    work_seconds: float = DEFAULT_WORK_SECONDS
    final_state: str = "idle"  # idle | complete | failure
    silent: bool = False
    build_fails: bool = False
    output_kib: int = 0  # 0: a one-line reply
    no_snapshot: bool = False
    autopause_seconds: float | None = None
    opens_pr: bool = False


def turn_behaviour(prompt: str, turn: int) -> str:
    """How turn number `turn` (0 is the prompt's) of work created from `prompt` ends."""
    match = _TURNS.search(prompt)
    script = [b for b in match.group(1).split(",") if b in TURN_BEHAVIOURS] if match else []
    return script[turn] if turn < len(script) else "ok"


def parse_directives(text: str) -> Directives:
    """Read the `[sim:…]` directives in `text`; anything else is ordinary input."""
    match = _WORK.search(text)
    output = _OUTPUT.search(text)
    autopause = _AUTOPAUSE.search(text)
    final = "idle"
    if "[sim:complete]" in text:
        final = "complete"
    if "[sim:fail]" in text:
        final = "failure"
    return Directives(
        work_seconds=float(match.group(1)) if match else DEFAULT_WORK_SECONDS,
        final_state=final,
        silent="[sim:silent]" in text,
        build_fails="[sim:build-fail]" in text,
        output_kib=int(output.group(1)) if output else 0,
        no_snapshot="[sim:no-snapshot]" in text,
        autopause_seconds=float(autopause.group(1)) if autopause else None,
        opens_pr="[sim:pr]" in text,
    )
