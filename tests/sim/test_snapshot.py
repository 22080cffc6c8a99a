"""The 64 KiB cap on a paused task's log snapshot (CONTRACT section 1, log-snapshot upload)."""

from __future__ import annotations

import json

from runner.sim.directives import parse_directives
from runner.sim.snapshot import MAX_SNAPSHOT_BYTES, capped_snapshot


def entry(number: int, size: int) -> dict[str, object]:
    kind = "input" if number % 2 == 0 else "output"
    return {"id": number, "content": "x" * size, "type": kind, "time": "2026-01-01T00:00:00Z"}


def payload_size(entries: tuple[dict[str, object], ...]) -> int:
    roles = {"input": "user", "output": "agent"}
    messages = [{**e, "role": roles[str(e["type"])]} for e in entries]
    for message in messages:
        del message["type"]
    return len(json.dumps({"messages": messages}, separators=(",", ":")).encode())


def test_a_short_transcript_is_kept_whole() -> None:
    entries = [entry(n, 100) for n in range(6)]
    assert capped_snapshot(entries) == tuple(entries)


def test_a_long_transcript_keeps_its_newest_messages_within_64_kib() -> None:
    entries = [entry(n, 20_000) for n in range(8)]
    kept = capped_snapshot(entries)
    assert [e["id"] for e in kept] == [5, 6, 7]
    assert payload_size(kept) <= MAX_SNAPSHOT_BYTES
    assert payload_size((entries[4], *kept)) > MAX_SNAPSHOT_BYTES


def test_a_single_message_over_the_cap_leaves_an_empty_snapshot() -> None:
    assert capped_snapshot([entry(0, 10), entry(1, MAX_SNAPSHOT_BYTES)]) == ()


def test_directives_for_long_output_and_a_failed_upload() -> None:
    parsed = parse_directives("go [sim:output-kib=40] [sim:no-snapshot]")
    assert parsed.output_kib == 40 and parsed.no_snapshot
    assert parse_directives("go").output_kib == 0
