"""`tasks --debug apply` on Chats: every request of the run, preflight included, goes through one
transport, so the one debug log shows each request the simulator saw, and nothing twice.

A Chats batch resolves templates, users and organizations (preflight) as well as chats; those
requests must share the transport, its rate-limit pacer and its debug log with the chat requests.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_WAITS, ok, run_tasks, sim_env, write_manifest

BATCH = """\
version: 1
batch: debugged
defaults:
  template: claude-code
  timeout: 60s
tasks:
  - name: pinned
    prompt: "Add auth [sim:work=1]"
    template_version: v1
    preset: Large
    follow_ups:
      - "Please also add unit tests."
  - name: free
    prompt: "Fix the flaky tests [sim:work=1]"
"""

#: A request's debug line: `debug: GET /api/v2/chats?label=... -> 200 in 3 ms; ...`.
REQUEST_LINE = re.compile(r"^debug: (GET|POST|PATCH|PUT|DELETE) (\S+) -> (\d{3}) in ")


def debug_requests(stderr: str) -> collections.Counter[tuple[str, str, int]]:
    found: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for line in stderr.splitlines():
        match = REQUEST_LINE.match(line)
        if match:
            method, target, status = match.groups()
            found[(method, target.split("?")[0], int(status))] += 1
    return found


@pytest.mark.parametrize(
    ("version", "flags"),
    [("2.38.0", ()), ("2.34.2", ("--backend", "chats"))],
    ids=["v2.38", "v2.34-chats"],
)
def test_one_debug_log_shows_every_request_of_a_chats_apply(
    make_sim: Any, tmp_path: Path, version: str, flags: tuple[str, ...]
) -> None:
    sim = make_sim(version)
    path = write_manifest(tmp_path, BATCH)
    result = ok(
        run_tasks(["--debug", "apply", path, "--yes", *flags, *FAST_WAITS], env=sim_env(sim)),
        sim,
    )
    seen = collections.Counter((r["method"], r["path"], r["status"]) for r in sim.requests)
    logged = debug_requests(result.stderr)
    # Preflight's reads are among them (the template and its version), and the chats' writes.
    assert any(p.endswith("/templates/claude-code") for _, p, _ in seen), seen
    assert any(m == "POST" and p.endswith("/chats") for m, p, _ in seen), seen
    assert logged == seen, (logged - seen, seen - logged)
    # One transport: the deployment line that each transport logs when made appears once.
    assert result.stderr.count("debug: deployment ") == 1, result.stderr


def test_one_debug_log_shows_every_request_of_a_pinned_chat_create(make_sim: Any) -> None:
    """`tasks create --template` on Chats resolves the template as preflight does, over the
    command's one transport."""
    sim = make_sim("2.38.0")
    args = [
        "--debug",
        "create",
        "--template",
        "claude-code",
        "--preset",
        "Large",
        "Go [sim:work=1]",
    ]
    result = ok(run_tasks(args, env=sim_env(sim)), sim)
    seen = collections.Counter((r["method"], r["path"], r["status"]) for r in sim.requests)
    assert any(p.endswith("/templates/claude-code") for _, p, _ in seen), seen
    assert debug_requests(result.stderr) == seen
    assert result.stderr.count("debug: deployment ") == 1, result.stderr
