"""A task run's state: where it is (a `Step`), the data that step carries, and its transitions.

Each state is a frozen value of one class per phase; a class holds only what its phase needs
(why a create is in doubt, what the polls of a watched task showed), and its `step` field only
the steps of that phase. So "ready to send" exists only while follow-ups are being sent, a
resume only while a task is watched, and a request on the wire is a step of its own. Every
change of step is checked against `TRANSITIONS`, in `transition`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar, Literal

from runner.execute.hold import CapacityHold
from runner.execute.results import Outcome
from runner.item import Item


class Phase(Enum):
    """The stretch of a run a step belongs to (progress lines show it before a task exists)."""

    DELETE = "delete"  # delete the existing task (prune, or the old one of a replace)
    CREATE = "create"
    ADOPT = "adopt"  # a create may have happened: find it by listing
    RETIRE = "retire"  # the chat created is a younger duplicate: set it aside
    FOLLOW_UPS = "follow_ups"
    WAIT = "wait"
    CONCLUDE = "conclude"  # the outcome is decided: read what Coder says of it, judge it
    CLEAN_UP = "clean up"  # the outcome is final: its `after:` (stop or remove)
    DONE = "done"


class Step(Enum):
    """Where a run is: its phase, and within it the request it wants or has on the wire."""

    DELETE = "delete"  # to delete the task once `not_before` has passed
    DELETE_ASKED = "delete asked"  # the delete is on the wire
    CREATE = "create"  # to create the task once its template version may be tried
    CREATE_ASKED = "create asked"
    ADOPT = "adopt"  # the next listing decides whether the create happened
    RETIRE = "retire"  # a poll showed an older chat of the item: archive the one created
    RETIRE_ASKED = "retire asked"
    SETTLE = "settle"  # follow-ups left: wait for the agent to be idle
    SEND = "send"  # the agent is idle: send the next follow-up
    SEND_ASKED = "send asked"
    RESUME_TO_SEND = "resume to send"  # the task is paused: resume it, then send
    RESUME_TO_SEND_ASKED = "resume to send asked"
    WAIT = "wait"  # every follow-up delivered: wait for the agent as the manifest asks
    RESUME_TO_WAIT = "resume to wait"  # the task is paused: resume it, then wait
    RESUME_TO_WAIT_ASKED = "resume to wait asked"
    DETAILS = "details"  # to read the result's details (pull request, last message, cost)
    DETAILS_ASKED = "details asked"
    CLEAN_UP = "clean up"  # to stop or remove the item once `not_before` has passed
    CLEAN_UP_ASKED = "clean up asked"
    DONE = "done"

    @property
    def phase(self) -> Phase:
        return _PHASE_OF[self]

    @property
    def asked(self) -> bool:
        """A request is on the wire: its answer, not a poll, decides what comes next."""
        return self in _ASKED

    @property
    def concluded(self) -> bool:
        """The run's outcome is decided: no deadline, poll or stop changes it any more."""
        return self.phase in (Phase.CONCLUDE, Phase.CLEAN_UP, Phase.DONE)

    @property
    def watches(self) -> bool:
        """The next step depends on what a poll's list shows."""
        return not self.asked and self.phase in (Phase.ADOPT, Phase.FOLLOW_UPS, Phase.WAIT)


_PHASE_OF: Mapping[Step, Phase] = {
    Step.DELETE: Phase.DELETE,
    Step.DELETE_ASKED: Phase.DELETE,
    Step.CREATE: Phase.CREATE,
    Step.CREATE_ASKED: Phase.CREATE,
    Step.ADOPT: Phase.ADOPT,
    Step.RETIRE: Phase.RETIRE,
    Step.RETIRE_ASKED: Phase.RETIRE,
    Step.SETTLE: Phase.FOLLOW_UPS,
    Step.SEND: Phase.FOLLOW_UPS,
    Step.SEND_ASKED: Phase.FOLLOW_UPS,
    Step.RESUME_TO_SEND: Phase.FOLLOW_UPS,
    Step.RESUME_TO_SEND_ASKED: Phase.FOLLOW_UPS,
    Step.WAIT: Phase.WAIT,
    Step.RESUME_TO_WAIT: Phase.WAIT,
    Step.RESUME_TO_WAIT_ASKED: Phase.WAIT,
    Step.DETAILS: Phase.CONCLUDE,
    Step.DETAILS_ASKED: Phase.CONCLUDE,
    Step.CLEAN_UP: Phase.CLEAN_UP,
    Step.CLEAN_UP_ASKED: Phase.CLEAN_UP,
    Step.DONE: Phase.DONE,
}

_ASKED = frozenset(
    {
        Step.DELETE_ASKED,
        Step.CREATE_ASKED,
        Step.RETIRE_ASKED,
        Step.SEND_ASKED,
        Step.RESUME_TO_SEND_ASKED,
        Step.RESUME_TO_WAIT_ASKED,
        Step.DETAILS_ASKED,
        Step.CLEAN_UP_ASKED,
    }
)

#: Every change of step a run may make; anything else is a bug, caught where it happens. An
#: answered request goes back to the step that asked it when nothing happened (the token was
#: refused) or it is to be asked again (a delete not accepted yet, a send's outcome unknown).
#: A watched step may stay where it is with new data (what the polls showed). Wherever a run
#: may end, it may instead conclude or clean up (`CONCLUDED_FROM_ANY_END`, checked in
#: `transition`): its outcome is decided there, and its tail follows.
TRANSITIONS: Mapping[Step, frozenset[Step]] = {
    Step.DELETE: frozenset({Step.DELETE_ASKED, Step.DONE}),
    Step.DELETE_ASKED: frozenset({Step.DELETE, Step.CREATE, Step.DONE}),
    Step.CREATE: frozenset({Step.CREATE_ASKED, Step.DONE}),
    Step.CREATE_ASKED: frozenset({Step.CREATE, Step.ADOPT, Step.SETTLE, Step.WAIT, Step.DONE}),
    Step.ADOPT: frozenset({Step.CREATE, Step.SETTLE, Step.WAIT, Step.DONE}),
    Step.RETIRE: frozenset({Step.RETIRE_ASKED, Step.DONE}),
    Step.RETIRE_ASKED: frozenset({Step.RETIRE, Step.SETTLE, Step.WAIT, Step.DONE}),
    Step.SETTLE: frozenset(
        {Step.SETTLE, Step.SEND, Step.RESUME_TO_SEND, Step.RETIRE, Step.WAIT, Step.DONE}
    ),
    Step.SEND: frozenset({Step.SEND, Step.SEND_ASKED, Step.SETTLE, Step.RESUME_TO_SEND, Step.DONE}),
    Step.SEND_ASKED: frozenset({Step.SEND, Step.SETTLE, Step.WAIT, Step.DONE}),
    Step.RESUME_TO_SEND: frozenset({Step.RESUME_TO_SEND, Step.RESUME_TO_SEND_ASKED, Step.DONE}),
    Step.RESUME_TO_SEND_ASKED: frozenset({Step.RESUME_TO_SEND, Step.SETTLE, Step.DONE}),
    Step.WAIT: frozenset({Step.WAIT, Step.RESUME_TO_WAIT, Step.RETIRE, Step.DONE}),
    Step.RESUME_TO_WAIT: frozenset({Step.RESUME_TO_WAIT, Step.RESUME_TO_WAIT_ASKED, Step.DONE}),
    Step.RESUME_TO_WAIT_ASKED: frozenset({Step.RESUME_TO_WAIT, Step.WAIT, Step.DONE}),
    Step.DETAILS: frozenset({Step.DETAILS_ASKED, Step.DONE}),
    Step.DETAILS_ASKED: frozenset({Step.DETAILS, Step.CLEAN_UP, Step.DONE}),
    Step.CLEAN_UP: frozenset({Step.CLEAN_UP_ASKED, Step.DONE}),
    Step.CLEAN_UP_ASKED: frozenset({Step.CLEAN_UP, Step.DONE}),
    Step.DONE: frozenset(),
}
#: The steps a run whose outcome is just decided may go to instead of DONE.
CONCLUDED_FROM_ANY_END = frozenset({Step.DETAILS, Step.CLEAN_UP})


class Doubt(Enum):
    """Why a create may or may not have happened, so the listing that follows must decide."""

    LOST = "lost"  # the response was lost, or the server failed part-way
    CONFLICT = "conflict"  # the name is taken: by our own earlier create, or by another


@dataclass(frozen=True)
class SentMark:
    """The agent's state as seen when a follow-up was sent: stale until the agent reports anew."""

    state: str
    timestamp: object
    at: float  # monotonic time of the send

    @classmethod
    def of(cls, task: Item, at: float) -> SentMark:
        state = task.current_state
        return cls(state.state if state else "", state.timestamp if state else None, at)

    def matches(self, task: Item) -> bool:
        """`task` still shows the state seen at the send."""
        seen = SentMark.of(task, self.at)
        return (seen.state, seen.timestamp) == (self.state, self.timestamp)


@dataclass(frozen=True)
class Watch:
    """What the polls of a watched task showed; carried from the follow-ups into the wait."""

    sent: SentMark | None = None  # set by a send, cleared once the agent reports anew
    broken_since: float | None = None  # first poll of the current stretch in error/unknown
    missing: int = 0  # polls in a row the task was not listed


@dataclass(frozen=True)
class Progress:
    """What a run carries from phase to phase beside its step: the task it follows and what it
    did to it. Replaced as a whole, never changed in place, like the state."""

    task: Item | None = None  # the task as last created, adopted or listed
    delivered: int = 0  # follow-ups the logs or this run's sends show delivered
    deadline: float | None = None  # when the wait runs out (set once, when it begins)
    not_before: float = 0.0  # no request before this (a retry's pause)
    # The chat this run created and follows; every poll checks no older one of its item is
    # live (the first may not show one whose create began earlier but ended later).
    created_id: str = ""
    confirmed: bool = False  # a poll has shown the chat created alone
    # The run's own create lost a race: it watches the kept chat, the run that made it sends.
    observer: bool = False
    hold: CapacityHold = field(default_factory=CapacityHold)  # time queued for capacity (hold.py)
    # What reading the item's cost at its conclusion added to the batch's spend (micros);
    # None: not read there, so admission reads it when the run ends (admission.py).
    cost_counted: int | None = None


@dataclass(frozen=True)
class Deleting:
    step: Literal[Step.DELETE, Step.DELETE_ASKED] = Step.DELETE


@dataclass(frozen=True)
class Creating:
    step: Literal[Step.CREATE, Step.CREATE_ASKED] = Step.CREATE


@dataclass(frozen=True)
class Adopting:
    doubt: Doubt
    step: ClassVar[Literal[Step.ADOPT]] = Step.ADOPT


@dataclass(frozen=True)
class Retiring:
    """The chat this run created is younger than `kept`, another live chat of its item."""

    kept: Item
    step: Literal[Step.RETIRE, Step.RETIRE_ASKED] = Step.RETIRE


FollowUpStep = Literal[
    Step.SETTLE,
    Step.SEND,
    Step.SEND_ASKED,
    Step.RESUME_TO_SEND,
    Step.RESUME_TO_SEND_ASKED,
]


@dataclass(frozen=True)
class FollowingUp:
    step: FollowUpStep = Step.SETTLE
    watch: Watch = Watch()


@dataclass(frozen=True)
class Waiting:
    step: Literal[Step.WAIT, Step.RESUME_TO_WAIT, Step.RESUME_TO_WAIT_ASKED] = Step.WAIT
    watch: Watch = Watch()


@dataclass(frozen=True)
class Concluding:
    """The run's outcome is decided; what Coder says of the result is read and judged before
    its clean-up (runner/execute/cleanup.py)."""

    outcome: Outcome
    step: Literal[Step.DETAILS, Step.DETAILS_ASKED] = Step.DETAILS


@dataclass(frozen=True)
class CleaningUp:
    """The run's outcome is final: its `after:` is done, asked again while refused since
    `refused_since` (a chat still interrupting, a build still running)."""

    outcome: Outcome
    refused_since: float | None = None
    step: Literal[Step.CLEAN_UP, Step.CLEAN_UP_ASKED] = Step.CLEAN_UP


@dataclass(frozen=True)
class Done:
    outcome: Outcome
    step: ClassVar[Literal[Step.DONE]] = Step.DONE


State = (
    Deleting
    | Creating
    | Adopting
    | Retiring
    | FollowingUp
    | Waiting
    | Concluding
    | CleaningUp
    | Done
)
#: A state whose task the polls watch, with what they showed.
Watched = FollowingUp | Waiting


def transition(current: State, to: State) -> State:
    """`to`, when a run at `current` may go there; RuntimeError otherwise."""
    allowed = TRANSITIONS[current.step]
    ends = to.step in CONCLUDED_FROM_ANY_END and Step.DONE in allowed
    if to.step not in allowed and not ends:
        raise RuntimeError(f"a task run cannot go from {current.step.value} to {to.step.value}")
    return to


def unasked(state: State) -> State:
    """`state` back at the step that asked its request, as if it had not been sent."""
    if isinstance(state, Deleting):
        return Deleting()
    if isinstance(state, Creating):
        return Creating()
    if isinstance(state, Retiring):
        return Retiring(state.kept)
    if isinstance(state, Concluding):
        return Concluding(state.outcome)
    if isinstance(state, CleaningUp):
        return CleaningUp(state.outcome, state.refused_since)
    if state.step is Step.SEND_ASKED:
        return FollowingUp(Step.SEND, state.watch)
    if state.step is Step.RESUME_TO_SEND_ASKED:
        return FollowingUp(Step.RESUME_TO_SEND, state.watch)
    if isinstance(state, Waiting) and state.step is Step.RESUME_TO_WAIT_ASKED:
        return Waiting(Step.RESUME_TO_WAIT, state.watch)
    return state


def rewatched(state: Watched, watch: Watch) -> State:
    """`state` at the same step, with what the polls showed updated."""
    if isinstance(state, FollowingUp):
        return FollowingUp(state.step, watch)
    return Waiting(state.step, watch)
