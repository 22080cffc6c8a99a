"""The whole loop under failure, as a stateful property: random manifest edits and applies.

Hypothesis edits a batch manifest (add a task, remove one, change a prompt, add a follow-up) and
runs the real `tasks apply` in a subprocess against the simulator, with or without `--prune` and
`--replace`, under lost responses, 5xx answers, 429s, random chaos, and a SIGKILL of the client
held exactly at a chosen request (before the server acts on it, or after it acted and before the
reply). After a final clean apply the invariants must hold:

- one live task per manifest entry, and no other task of the batch;
- each task's inputs are exactly `[prompt, *follow_ups]`, in order (so nothing was sent twice);
- a second plan is empty (`tasks plan --detailed-exitcode` exits 0);
- tasks the batch does not own (made by hand first) are untouched.

The default profile (a few derandomized examples) runs in `make test`; `TASKS_PROOF_EXAMPLES=N`
runs N random examples (`make proof`). The simulator is the witness: its store and request log are
read in this process, and a test-only gate replaces its request log and fault rules to hold one
request until the client has been killed.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_TIME_SCALE, run_tasks, sim_env, start_tasks
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from runner import ownership
from runner.sim.faults import Fault, Faults
from runner.sim.handler import RequestLog
from runner.sim.server import SimServer
from runner.sim.task_json import log_entries
from runner.sim.task_record import TaskRecord

BATCH = "proof"
FAST = ["--poll-interval", "50ms", "--idle-grace", "100ms"]
NAMES = ("alpha", "beta", "gamma", "delta")
PROMPTS = ("Fix the login bug.", "Add tests for search.", "Refactor the billing module.")
FOLLOW_UPS = ("Also update the docs.", "Run the linter.", "Open a pull request.")
#: Exit codes an apply may end with under faults: done, error, partial failure, timeout.
EXPECTED_CODES = {0, 1, 4, 5}
HOLD_SECONDS = 60.0

FAULTS = st.sampled_from(["none", "lose", "5xx", "429", "chaos"])

Matcher = Callable[[str, str], bool]
Drawer = Any  # `st.data()`'s object, or a fixed stand-in in the scripted run


class Gate:
    """Holds one chosen request until the test has killed the client, then drops it.

    `hold_before` holds before the server acts (it then never acts); `hold_after` lets the
    server do the work and holds the reply. Requests are counted as the server takes them.
    """

    def __init__(self, sim: SimServer) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.count = 0
        self.matcher: Matcher | None = None
        self.after = False
        self.seen: dict[str, Any] = {}
        self._held_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        gate = self

        class GatedFaults(Faults):
            def take(self, method: str, path: str) -> Fault | None:
                if gate._claims(method, path):
                    if gate.after:
                        return Fault("after", 0)  # the work is done; the reply is held below
                    gate._hold(method, path)
                    return Fault("before", 0)
                return super().take(method, path)

        class GatedLog(RequestLog):
            def add(self, entry: dict[str, Any]) -> None:
                super().add(entry)
                if gate._held_thread is threading.current_thread():
                    gate._hold(entry["method"], entry["path"])

        old = sim.faults
        sim.faults = GatedFaults(fail_rate=old.fail_rate, lose_rate=old.lose_rate, seed=7)
        sim.request_log = GatedLog()

    def arm(self, matcher: Matcher, *, after: bool) -> None:
        with self._lock:
            self.reached.clear()
            self.release.clear()
            self.matcher, self.after, self._held_thread = matcher, after, None

    def disarm(self) -> None:
        with self._lock:
            self.matcher = None
        self.release.set()

    def _claims(self, method: str, path: str) -> bool:
        with self._lock:
            if self.matcher is None or not self.matcher(method, path):
                return False
            self.matcher = None  # one request only
            self._held_thread = threading.current_thread()
            return True

    def _hold(self, method: str, path: str) -> None:
        self._held_thread = None
        self.seen = {"method": method, "path": path}
        self.reached.set()
        self.release.wait(HOLD_SECONDS)


def nth_request(n: int, *, writes_only: bool) -> Matcher:
    """Matches the n-th API request (or the n-th POST/DELETE) from now on."""
    seen = 0

    def matcher(method: str, path: str) -> bool:
        nonlocal seen
        if writes_only and method not in ("POST", "DELETE"):
            return False
        seen += 1
        return seen == n

    return matcher


def note(text: str) -> None:
    """A hypothesis event (shown by `--hypothesis-show-statistics`), when hypothesis runs."""
    if currently_in_test_context():
        event(text)


def run_killed_at(
    sim: SimServer, gate: Gate, args: list[str], matcher: Matcher, *, after: bool
) -> bool:
    """Run `tasks apply …`, SIGKILL it when the gate holds the matching request; True if killed.

    Waits on the gate's event or the process's exit, never on a fixed sleep.
    """
    gate.arm(matcher, after=after)
    proc = start_tasks(args, env=sim_env(sim), stdout=subprocess.DEVNULL)
    killed = False
    try:
        while proc.poll() is None:
            if gate.reached.wait(0.05):
                proc.kill()
                killed = True
                break
        _, stderr = proc.communicate(timeout=60)
    finally:
        gate.disarm()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in stderr, stderr
    if not killed:
        assert proc.returncode in EXPECTED_CODES, (proc.returncode, stderr)
    return killed


def admin(sim: SimServer) -> Any:
    user = sim.directory.find_user("admin")
    assert user is not None
    return user


def inputs(sim: SimServer, task: TaskRecord) -> list[str]:
    """What the agent received, as the simulator recorded it."""
    entries = log_entries(task, sim.clock.now())
    return [entry["content"] for entry in entries if entry["type"] == "input"]


def live_owned(sim: SimServer) -> list[TaskRecord]:
    """The batch's tasks that are not deleted, by the batch's ownership marks."""
    shows_display = sim.version.is_ga
    return [
        task
        for task in list(sim.store.tasks)
        if task.deleted_at is None
        and ownership.owns(BATCH, task.name, task.display_name if shows_display else None)
    ]


def write_manifest(path: Path, model: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    head = ["version: 1", f"batch: {BATCH}", "defaults: {template: claude-code, timeout: 60s}"]
    lines = [*head, "tasks:"]
    for name, (prompt, follow_ups) in sorted(model.items()):
        lines += [f"  - name: {name}", f"    prompt: {prompt!r}"]
        if follow_ups:
            lines.append(f"    follow_ups: {list(follow_ups)!r}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def hand_made(sim: SimServer) -> dict[str, tuple[str, list[str]]]:
    """Tasks the batch does not own: another user's, one of another batch with the same
    manifest name, and a plain one; by id, (name, inputs)."""
    store, directory = sim.store, sim.directory
    template = next(t for t in directory.templates if t.name == "claude-code")
    made = {}
    for user, name in (
        ("admin", "by-hand"),
        ("alice", "alices-own"),
        ("admin", ownership.coder_name("other-batch", NAMES[0])),
    ):
        caller = directory.find_user(user)
        assert caller is not None
        body = {
            "template_version_id": template.active_version_id,
            "input": f"Hand-made {name}.",
            "name": name,
        }
        data = store.create(caller, "me", body)
        made[data["id"]] = (name, [f"Hand-made {name}."])
    return made


class ApplyLoop(RuleBasedStateMachine):
    """A manifest edited at random, applied under faults, then converged cleanly."""

    #: The routes the injected faults hit (creates, sends, deletes and their reads).
    FAULT_ROUTES = r"/tasks"
    #: Flags every apply and plan of this machine passes (e.g. the backend to use).
    backend_args: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.sim: SimServer | None = None
        self.model: dict[str, tuple[str, tuple[str, ...]]] = {}

    # -- what the simulator holds (the Chats machine reads chats instead) -------------------------

    def make_hand(self) -> dict[str, tuple[str, list[str]]]:
        assert self.sim is not None
        return hand_made(self.sim)

    def hand_state(self, item_id: str) -> tuple[str, bool, list[str]]:
        """A hand-made item's name, whether it is live, and the inputs it received."""
        assert self.sim is not None
        task = next(t for t in self.sim.store.tasks if t.id == item_id)
        return task.name, task.deleted_at is None, inputs(self.sim, task)

    def live(self) -> list[tuple[str, list[str]]]:
        """The batch's live items: manifest name and the inputs each received."""
        assert self.sim is not None
        return [
            (ownership.base_name(BATCH, task.name) or "", inputs(self.sim, task))
            for task in live_owned(self.sim)
        ]

    @initialize(version=st.sampled_from(["2.28.11", "2.34.2"]))
    def start(self, version: str) -> None:
        self.work = tempfile.TemporaryDirectory(prefix="tasks-proof-")
        self.manifest = Path(self.work.name) / "batch.tasks.yaml"
        # A rate limit low enough that a run can meet it, with a short (scaled) window.
        self.sim = SimServer(
            coder_version=version, time_scale=TEST_TIME_SCALE, rate_limit=60, seed=11
        )
        self.sim.start()
        self.gate = Gate(self.sim)
        self.hand = self.make_hand()
        self.model = {NAMES[0]: (PROMPTS[0], ())}
        self.kills: list[bool] = []  # per apply: whether the client was killed

    # -- manifest edits -----------------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES), prompt=st.sampled_from(PROMPTS))
    def add_task(self, name: str, prompt: str) -> None:
        self.model.setdefault(name, (prompt, ()))

    @precondition(lambda self: len(self.model) > 1)  # a manifest lists at least one task
    @rule(data=st.data())
    def remove_task(self, data: Drawer) -> None:
        name = data.draw(st.sampled_from(sorted(self.model)))
        del self.model[name]

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), prompt=st.sampled_from(PROMPTS))
    def change_prompt(self, data: Drawer, prompt: str) -> None:
        name = data.draw(st.sampled_from(sorted(self.model)))
        self.model[name] = (prompt, self.model[name][1])

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), follow_up=st.sampled_from(FOLLOW_UPS))
    def add_follow_up(self, data: Drawer, follow_up: str) -> None:
        name = data.draw(st.sampled_from(sorted(self.model)))
        prompt, follow_ups = self.model[name]
        self.model[name] = (prompt, (*follow_ups, follow_up))

    # -- applies under failure ------------------------------------------------------------------

    @rule(
        prune=st.booleans(),
        replace=st.booleans(),
        fault=FAULTS,
        times=st.integers(1, 3),
        parallelism=st.sampled_from([4, 1]),
    )
    def apply(
        self, prune: bool, replace: bool, fault: str, times: int, parallelism: int = 4
    ) -> None:
        """An apply that runs to its end, under a fault."""
        self.apply_killed(prune, replace, fault, times, None, False, False, parallelism)

    @rule(
        prune=st.booleans(),
        replace=st.booleans(),
        fault=FAULTS,
        times=st.integers(1, 3),
        kill_at=st.integers(1, 30),
        writes_only=st.booleans(),
        after=st.booleans(),
        parallelism=st.sampled_from([4, 1]),
    )
    def apply_killed(
        self,
        prune: bool,
        replace: bool,
        fault: str,
        times: int,
        kill_at: int | None,
        writes_only: bool,
        after: bool,
        parallelism: int = 4,
    ) -> None:
        """An apply under a fault, SIGKILLed at its `kill_at`-th request (or write) when it
        gets that far: before the server acts on it, or `after` it acted and before the reply."""
        assert self.sim is not None
        write_manifest(self.manifest, self.model)
        faults = self.sim.faults
        task_routes = self.FAULT_ROUTES
        if fault == "lose":
            faults.add(method="POST", path=task_routes, when="after", status=0, times=times)
        elif fault == "5xx":
            faults.add(path=task_routes, status=503, times=times)
        elif fault == "429":
            faults.add(path=task_routes, status=429, times=times)
        elif fault == "chaos":
            faults.fail_rate, faults.lose_rate = 0.05, 0.05
        args = self.apply_args(prune, replace, parallelism)
        if kill_at is None:
            kill_at = 10_000  # never reached: the run ends on its own
        matcher = nth_request(kill_at, writes_only=writes_only)
        killed = run_killed_at(self.sim, self.gate, args, matcher, after=after)
        self.kills.append(killed)
        note(f"fault: {fault}")
        if killed:
            note(f"killed {'after' if after else 'before'} the server acted")
        faults.clear()
        faults.fail_rate = faults.lose_rate = 0.0

    def apply_args(self, prune: bool, replace: bool, parallelism: int) -> list[str]:
        args = ["apply", str(self.manifest), "--yes", *FAST, "--parallelism", str(parallelism)]
        return args + ["--prune"] * prune + ["--replace"] * replace + [*self.backend_args]

    @invariant()
    def hand_made_untouched(self) -> None:
        if self.sim is None:
            return
        for item_id, (name, sent) in self.hand.items():
            shown, alive, received = self.hand_state(item_id)
            assert alive, f"{name} was deleted"
            assert shown == name
            # The prompt appears once the agent starts.
            assert received == sent[: len(received)], f"{name} received {received}"

    def teardown(self) -> None:
        if self.sim is None:
            return
        try:
            self.converge_and_check()
        finally:
            self.gate.disarm()
            self.sim.stop()
            self.work.cleanup()

    def converge_and_check(self) -> None:
        """A clean apply converges whatever happened before, and a second plan is empty."""
        assert self.sim is not None
        write_manifest(self.manifest, self.model)
        env = sim_env(self.sim)
        args = [str(self.manifest), "--prune", "--replace", *self.backend_args]
        done = run_tasks(["apply", *args, "--yes", *FAST], env=env, timeout=120)
        assert done.code == 0, done.output
        owned = self.live()
        names = sorted(name for name, _ in owned)
        assert names == sorted(self.model), (names, sorted(self.model))
        for name, received in owned:
            prompt, follow_ups = self.model[name]
            assert received == [prompt, *follow_ups], name
        again = run_tasks(["plan", *args, "--detailed-exitcode"], env=env)
        assert again.code == 0, again.output
        self.hand_made_untouched()


def profile(suite_examples: int = 2) -> settings:
    """`TASKS_PROOF_EXAMPLES` random examples when set, else `suite_examples` derandomized."""
    examples = int(os.environ.get("TASKS_PROOF_EXAMPLES", "0"))
    common = {
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
    }
    if examples:
        return settings(max_examples=examples, stateful_step_count=8, **common)
    # The suite's profile: few derandomized examples, so that `make test` stays fast; the
    # scripted run below covers every fault and both kill points whatever these draw.
    return settings(max_examples=suite_examples, stateful_step_count=5, derandomize=True, **common)


ApplyLoop.TestCase.settings = profile()
TestApplyLoopUnderFailure = ApplyLoop.TestCase


class Fixed:
    """Stands in for `st.data()` in the scripted run: draws one chosen value."""

    def __init__(self, value: str) -> None:
        self.value = value

    def draw(self, strategy: object) -> str:
        return self.value


def test_scripted_loop_covers_every_fault() -> None:
    """One fixed run of the machine: each fault kind, a kill before and after the server acts,
    prune and replace, then the same final checks as the random runs."""
    machine = ApplyLoop()
    machine.start("2.34.2")
    try:
        machine.add_task("beta", PROMPTS[1])
        machine.apply_killed(False, False, "lose", 1, 2, writes_only=True, after=True)
        machine.add_follow_up(Fixed("alpha"), FOLLOW_UPS[0])
        machine.change_prompt(Fixed("beta"), PROMPTS[2])
        machine.apply_killed(True, False, "5xx", 2, 1, writes_only=True, after=False)
        machine.remove_task(Fixed("alpha"))
        machine.add_task("gamma", PROMPTS[0])
        machine.apply(True, True, "429", 2, parallelism=1)
        machine.apply(False, True, "chaos", 1)
        machine.hand_made_untouched()
        assert machine.kills == [True, True, False, False]
    finally:
        machine.teardown()


# -- exactly once across a kill between a send landing and its reply ----------------------------

SEND = re.compile(r"/tasks/[^/]+/[^/]+/send$")


@pytest.fixture(params=["2.28.11", "2.34.2"], ids=["v2.28", "v2.34"])
def gated_sim(request: pytest.FixtureRequest) -> Iterator[tuple[SimServer, Gate]]:
    server = SimServer(coder_version=request.param, time_scale=TEST_TIME_SCALE)
    server.start()
    gate = Gate(server)
    yield server, gate
    gate.disarm()
    server.stop()


def test_follow_up_delivered_once_when_killed_between_send_and_reply(
    gated_sim: tuple[SimServer, Gate], tmp_path: Path
) -> None:
    """The server takes the follow-up, the client dies before the reply: a re-run must see the
    follow-up in the task's logs and not send it again."""
    sim, gate = gated_sim
    manifest = tmp_path / "once.tasks.yaml"
    model = {"solo": ("Write the parser.", ("Now add error messages.",))}
    write_manifest(manifest, model)
    args = ["apply", str(manifest), "--yes", *FAST]

    def first_send(method: str, path: str) -> bool:
        return method == "POST" and SEND.search(path) is not None

    assert run_killed_at(sim, gate, args, first_send, after=True)
    (task,) = live_owned(sim)
    assert inputs(sim, task) == ["Write the parser.", "Now add error messages."]
    assert SEND.search(gate.seen["path"])

    again = run_tasks(args, env=sim_env(sim), timeout=120)
    assert again.code == 0, again.output
    (task,) = live_owned(sim)
    assert inputs(sim, task) == ["Write the parser.", "Now add error messages."]
    sends = [r for r in sim.requests if r["method"] == "POST" and SEND.search(r["path"])]
    assert len(sends) == 1, sends
