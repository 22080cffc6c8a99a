"""The stateful proof of apply under failure (`test_proof_stateful.py`), on Chats.

The same machine, its edits, faults (lost responses, 5xx, 429s, chaos) and SIGKILLs anywhere,
on v2.34 with `--backend chats` and on v2.38, plus one more step: two applies of the batch at
once. After a final clean apply: one live chat per manifest entry and no other chat of the
batch, each with exactly `[prompt, *follow_ups]` as its user messages, an empty second plan,
and hand-made chats (one carrying another batch's labels) untouched. The simulator is the
witness, read over its API.
"""

from __future__ import annotations

import pytest
from conftest import sim_env, start_tasks
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule
from test_proof_stateful import (
    BATCH,
    EXPECTED_CODES,
    FAULTS,
    FOLLOW_UPS,
    NAMES,
    PROMPTS,
    ApplyLoop,
    Fixed,
    note,
    profile,
    write_manifest,
)

from runner import ownership
from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

VERSIONS = {"2.34.2": ("--backend", "chats"), "2.38.0": ()}


class ChatApplyLoop(ApplyLoop):
    """`ApplyLoop` on Chats, with concurrent applies among its steps."""

    FAULT_ROUTES = r"/chats|/workspaces"

    def client(self) -> ChatsClient:
        assert self.sim is not None
        return ChatsClient(Connection(url=self.sim.url, token=self.sim.token))

    def user_messages(self, chat_id: str) -> list[str]:
        return [m.text for m in self.client().history(chat_id) if m.role == "user" and m.text]

    def make_hand(self) -> dict[str, tuple[str, list[str]]]:
        made = {}
        for name, labels in (
            ("by-hand", {}),
            (NAMES[0], {ownership.BATCH_LABEL: "other-batch", ownership.ITEM_LABEL: NAMES[0]}),
        ):
            chat = self.client().create_chat(f"Hand-made {name}.", labels=labels)
            made[chat.id] = (name, [f"Hand-made {name}."])
        return made

    def hand_state(self, item_id: str) -> tuple[str, bool, list[str]]:
        chat = self.client().get_chat(item_id)
        name = chat.labels.get(ownership.ITEM_LABEL) or "by-hand"
        return name, not chat.archived, self.user_messages(item_id)

    def live(self) -> list[tuple[str, list[str]]]:
        chats = self.client().list_chats(labels={ownership.BATCH_LABEL: BATCH})
        return [(c.labels[ownership.ITEM_LABEL], self.user_messages(c.id)) for c in chats]

    @initialize(version=st.sampled_from(sorted(VERSIONS)))
    def start(self, version: str) -> None:
        self.backend_args = VERSIONS[version]
        super().start(version)

    @rule(fault=FAULTS, times=st.integers(1, 3), prune=st.booleans())
    def apply_concurrently(self, fault: str, times: int, prune: bool) -> None:
        """Two applies of the batch started together, under a fault; both run to their end."""
        assert self.sim is not None
        write_manifest(self.manifest, self.model)
        faults = self.sim.faults
        if fault == "lose":
            faults.add(method="POST", path=self.FAULT_ROUTES, when="after", status=0, times=times)
        elif fault in ("5xx", "429"):
            status = 503 if fault == "5xx" else 429
            faults.add(path=self.FAULT_ROUTES, status=status, times=times)
        elif fault == "chaos":
            faults.fail_rate, faults.lose_rate = 0.05, 0.05
        args = self.apply_args(prune, False, 4)
        procs = [start_tasks(args, env=sim_env(self.sim)) for _ in range(2)]
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert "Traceback" not in out + err, err
            assert proc.returncode in EXPECTED_CODES, (proc.returncode, out + err)
        note(f"concurrent, fault: {fault}")
        faults.clear()
        faults.fail_rate = faults.lose_rate = 0.0


# One derandomized example in the suite; the scripted runs below cover every fault, both kill
# points and concurrent applies on both versions whatever it draws.
ChatApplyLoop.TestCase.settings = profile(suite_examples=1)
TestChatApplyLoopUnderFailure = ChatApplyLoop.TestCase


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_scripted_chat_loop_covers_every_fault_and_a_race(version: str) -> None:
    """A fixed run: concurrent applies (under a lost response, then 429s), each fault, a kill
    after the server acted and one before, prune and replace; then the final checks."""
    machine = ChatApplyLoop()
    machine.start(version)
    try:
        machine.add_task("beta", PROMPTS[1])
        machine.add_follow_up(Fixed("beta"), FOLLOW_UPS[0])
        machine.apply_concurrently("lose", 1, prune=False)
        machine.add_follow_up(Fixed("alpha"), FOLLOW_UPS[1])
        machine.apply_killed(False, False, "lose", 1, 1, writes_only=True, after=True)
        machine.change_prompt(Fixed("beta"), PROMPTS[2])
        machine.apply_killed(False, True, "5xx", 2, 1, writes_only=True, after=False)
        machine.remove_task(Fixed("alpha"))
        machine.add_task("gamma", PROMPTS[0])
        machine.add_follow_up(Fixed("gamma"), FOLLOW_UPS[2])
        machine.apply_concurrently("429", 2, prune=True)
        machine.apply(True, True, "chaos", 1)
        machine.hand_made_untouched()
        assert machine.kills == [True, True, False]
    finally:
        machine.teardown()
