"""`make soak`: "exactly once" on Chats, at scale, under faults, with two applies racing.

Each round starts a simulated deployment in this process, applies a small neighbour batch whose
items have the same names, then turns on random faults (responses lost after the server acted,
503s before it) and a chat list that ignores its `label` filter, and starts two
`tasks apply --backend chats` of one batch at the same moment. When both have exited, the
simulator's store is the witness, read directly rather than through the client under test:

- every item has exactly one live chat, whose user messages are its prompt and its follow-up,
  each once (queued ones included);
- every neighbour chat is as it was: live, with its one prompt;
- both applies exited 0, with no traceback and no session token in their output.

Not part of `make test`: 1,000 items take minutes. The suite holds the same promise on 20 items
with stepped time (`tests/e2e/test_apply_chats_race.py`) and each fault on its own.
`python bench/soak.py --help` for the knobs; exits 1 on any broken promise.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _proof import clean_env, tasks_argv

from runner.ownership import BATCH_LABEL, ITEM_LABEL
from runner.sim.chats.record import ChatRecord
from runner.sim.server import SimServer

BATCH = "soak"
NEIGHBOUR = "soak-neighbour"
NEIGHBOURS = 10
FOLLOW_UP = "more [sim:work=2]"
APPLY = ["--yes", "--backend", "chats", "--poll-interval", "200ms", "--idle-grace", "300ms"]
APPLY_TIMEOUT_SECONDS = 1800
#: Lines of the applies' output that show the round took the paths it is for, and how to say so.
PATHS = {
    "create outcome unknown": "creates in doubt",
    "send outcome unknown": "sends in doubt",
    "adopted the chat a concurrent apply created": "another apply's chat watched",
    "and archived": "duplicates archived",
}


@dataclass(frozen=True)
class Round:
    version: str
    seed: int
    items: int
    lose: float
    fail: float
    latency_ms: int


def prompt(n: int) -> str:
    return f"job {n} [sim:work=2]"


def manifest(batch: str, items: int, *, follow_up: bool) -> str:
    lines = ["version: 1", f"batch: {batch}", "defaults: {template: claude-code, timeout: 10m}"]
    lines.append("tasks:")
    for n in range(1, items + 1):
        lines += [f'  - name: "job-{n}"', f'    prompt: "{prompt(n)}"']
        if follow_up:
            lines.append(f'    follow_ups: ["{FOLLOW_UP}"]')
    return "\n".join(lines) + "\n"


def user_texts(chat: ChatRecord) -> list[str]:
    """What users asked of `chat`: its messages with text (not the workspace's context-file
    messages), then any still queued."""
    said = [
        "".join(part["text"] for part in message.parts if part["type"] == "text")
        for message in chat.messages
        if message.role == "user"
    ]
    return [text for text in said if text] + [queued.text for queued in chat.queue]


def chats_of(sim: SimServer, batch: str) -> list[ChatRecord]:
    with sim.chats.lock:
        return [chat for chat in sim.chats.chats if chat.labels.get(BATCH_LABEL) == batch]


def apply(sim: SimServer, path: Path, copies: int, parallelism: int) -> list[str]:
    """Run `copies` applies of `path` at once; their outputs, each checked for exit and leaks."""
    argv = tasks_argv("apply", str(path), *APPLY, "--parallelism", str(parallelism))
    env = clean_env(sim.url, sim.token)
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(copies)
    ]
    problems, outputs = [], []
    for proc in procs:
        out = proc.communicate(timeout=APPLY_TIMEOUT_SECONDS)[0]
        outputs.append(out)
        if proc.returncode != 0 or "Traceback" in out or sim.token in out:
            problems.append(f"apply exited {proc.returncode}:\n{out[-3000:]}")
    if problems:
        raise SystemExit("\n".join(problems))
    return outputs


def broken_items(sim: SimServer, items: int) -> list[str]:
    """Each item whose live chats are not exactly one holding [prompt, follow-up]."""
    live: dict[str, list[ChatRecord]] = collections.defaultdict(list)
    for chat in chats_of(sim, BATCH):
        if not chat.archived:
            live[chat.labels[ITEM_LABEL]].append(chat)
    broken = []
    for n in range(1, items + 1):
        chats = live.get(f"job-{n}", [])
        if len(chats) != 1:
            broken.append(f"job-{n}: {len(chats)} live chats")
        elif (said := user_texts(chats[0])) != [prompt(n), FOLLOW_UP]:
            broken.append(f"job-{n}: asked {said}")
    return broken


def disturbed_neighbours(sim: SimServer, before: dict[str, list[str]]) -> list[str]:
    """Each neighbour chat that is no longer live with what it was asked before."""
    now = {chat.id: chat for chat in chats_of(sim, NEIGHBOUR)}
    disturbed = []
    for chat_id, said in before.items():
        chat = now.get(chat_id)
        if chat is None or chat.archived or user_texts(chat) != said:
            disturbed.append(f"neighbour {chat_id} changed")
    return disturbed


def paths_taken(outputs: Sequence[str]) -> str:
    """How often the racing applies took each path of `PATHS`, together: event lines only
    (`[time] item what`), not the table at the end, which repeats each item's last event."""
    lines = [line for output in outputs for line in output.splitlines() if line.startswith("[")]
    return ", ".join(
        f"{sum(mark in line for line in lines)} {said}" for mark, said in PATHS.items()
    )


def soak(spec: Round, workdir: Path, parallelism: int) -> tuple[list[str], str]:
    """One round: what went wrong in it (empty when every promise held), and the paths taken."""
    sim = SimServer(
        coder_version=spec.version,
        time_scale=0.05,
        rate_limit=0,
        latency_ms=spec.latency_ms,
        seed=spec.seed,
    )
    sim.start()
    try:
        neighbour = workdir / "neighbour.tasks.yaml"
        neighbour.write_text(manifest(NEIGHBOUR, NEIGHBOURS, follow_up=False))
        apply(sim, neighbour, 1, parallelism)
        before = {chat.id: user_texts(chat) for chat in chats_of(sim, NEIGHBOUR)}
        batch = workdir / "soak.tasks.yaml"
        batch.write_text(manifest(BATCH, spec.items, follow_up=True))
        sim.faults.lose_rate, sim.faults.fail_rate = spec.lose, spec.fail
        sim.faults.ignore_label_filter = True
        outputs = apply(sim, batch, 2, parallelism)
        sim.faults.lose_rate = sim.faults.fail_rate = 0.0
        wrong = broken_items(sim, spec.items) + disturbed_neighbours(sim, before)
        return wrong, paths_taken(outputs)
    finally:
        sim.stop()


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=1000, help="items per batch (1000)")
    parser.add_argument("--quick", action="store_true", help="100 items, one seed")
    parser.add_argument("--versions", default="2.38.0,2.34.2", help="Coder versions to serve")
    parser.add_argument("--seeds", default="1,2", help="fault seeds, one round each")
    parser.add_argument("--lose", type=float, default=0.03, help="share of responses lost")
    parser.add_argument("--fail", type=float, default=0.03, help="share of requests failed")
    parser.add_argument("--latency-ms", type=int, default=10, help="server latency")
    parser.add_argument("--parallelism", type=int, default=20, help="each apply's parallelism")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    items, seeds = args.items, [int(seed) for seed in args.seeds.split(",")]
    if args.quick:
        items, seeds = 100, seeds[:1]
    failed = 0
    for version in args.versions.split(","):
        for seed in seeds:
            spec = Round(version, seed, items, args.lose, args.fail, args.latency_ms)
            started = time.monotonic()
            with tempfile.TemporaryDirectory() as workdir:
                wrong, paths = soak(spec, Path(workdir), args.parallelism)
            verdict = "ok" if not wrong else f"{len(wrong)} broken: {'; '.join(wrong[:5])}"
            print(
                f"v{version} seed {seed}: {items} items, {args.lose:.0%} lost, "
                f"{args.fail:.0%} failed, two applies at once: {verdict} "
                f"({time.monotonic() - started:.0f} s; {paths})",
                flush=True,
            )
            failed += bool(wrong)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
