"""`--lost-contact-after` bounds the whole outage, even when the deployment hangs.

A server that accepts requests and never answers is the worst case: each request would run to
its own deadline (60 s by default) and be tried again. The simulator holds every poll on arrival
and never answers it, or (`tasks sim` in its own process) is stopped by SIGSTOP; the apply must
end by the lost-contact window plus a little, on Tasks and on Chats. The in-process simulator's
arrivals say when the polls hang; the stopped one is asked until the chats exist.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, sim_env, start_tasks, write_manifest

#: The lost-contact window of the test, and what the end may take beyond it on a loaded
#: machine (the process's exit, a last poll interval); far below the 60 s request deadline.
WINDOW_SECONDS = 3.0
SLACK_SECONDS = 6.0
EVENT_TIMEOUT = 60.0

MANIFEST = """\
version: 1
batch: hung
defaults: {template: claude-code, timeout: 10m}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }} [sim:work=600]"
    matrix:
      n: [1, 2]
"""


@pytest.mark.parametrize(
    ("version", "backend", "creates", "polls"),
    [
        ("2.34.2", "tasks", "/api/v2/tasks/", "/api/v2/tasks$"),
        ("2.34.2", "chats", "/api/experimental/chats", "/api/experimental/chats$"),
        ("2.38.0", "chats", "/api/v2/chats", "/api/v2/chats$"),
    ],
    ids=["v2.34-tasks", "v2.34-chats", "v2.38"],
)
def test_a_hung_server_ends_the_apply_within_the_lost_contact_window(
    make_sim: Any, tmp_path: Path, version: str, backend: str, creates: str, polls: str
) -> None:
    sim = make_sim(version)
    manifest = write_manifest(tmp_path, MANIFEST)
    args = ["apply", manifest, "--yes", "--backend", backend]
    args += ["--poll-interval", "200ms", "--lost-contact-after", f"{WINDOW_SECONDS:g}s"]
    proc = start_tasks(args, env=sim_env(sim))
    try:
        assert sim.arrivals.wait("POST", creates, count=2, timeout=EVENT_TIMEOUT)
        # Both agents work for ten minutes: from here on the apply only polls, and every poll
        # is held on the server, never answered. (Cleared first: a poll held before the clear
        # would be forgotten, and no other would come while it hangs.)
        sim.arrivals.clear()
        sim.arrivals.hold("GET", polls)
        assert sim.arrivals.wait("GET", polls, timeout=EVENT_TIMEOUT)
        held_at = time.monotonic()
        out, err = proc.communicate(timeout=WINDOW_SECONDS + 30)
        ended_after = time.monotonic() - held_at
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        sim.arrivals.release(timeout=EVENT_TIMEOUT)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in err
    assert "lost contact with the deployment" in out + err
    assert "lost-contact window" in out + err, out + err
    assert ended_after <= WINDOW_SECONDS + SLACK_SECONDS, ended_after


def test_a_stopped_server_process_ends_the_apply_within_the_lost_contact_window(
    tmp_path: Path,
) -> None:
    """`tasks sim` in its own process, SIGSTOPped once the chats exist: the kernel still
    accepts connections, and nothing ever answers them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "TASKS_"))}
    argv = [sys.executable, "-m", "runner", "sim", "--port", "0", "--coder-version", "2.38.0"]
    server = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=str(ROOT), env=env
    )
    proc = None
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip().split("=", 1)[1]
        token = server.stdout.readline().strip().split("=", 1)[1]
        manifest = write_manifest(tmp_path, MANIFEST)
        args = ["apply", manifest, "--yes", "--poll-interval", "200ms"]
        args += ["--lost-contact-after", f"{WINDOW_SECONDS:g}s"]
        proc = start_tasks(args, env={"CODER_URL": url, "CODER_SESSION_TOKEN": token})
        listed = labelled_chats(url, token, count=2)
        assert len(listed) == 2, listed
        server.send_signal(signal.SIGSTOP)
        stopped_at = time.monotonic()
        out, err = proc.communicate(timeout=WINDOW_SECONDS + 30)
        ended_after = time.monotonic() - stopped_at
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        server.send_signal(signal.SIGCONT)
        server.terminate()
        _reap(server)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in err
    assert "lost contact with the deployment" in out + err
    # The window, plus at most one poll interval before the first poll that hangs.
    assert ended_after <= WINDOW_SECONDS + SLACK_SECONDS, ended_after


def labelled_chats(url: str, token: str, *, count: int) -> list[Any]:
    """The batch's chats once `count` exist (asked every 50 ms, for at most a minute)."""
    headers = {"Coder-Session-Token": token}
    params = {"label": "tasks/batch:hung"}
    ends = time.monotonic() + EVENT_TIMEOUT
    found: list[Any] = []
    while time.monotonic() < ends:
        found = httpx.get(f"{url}/api/v2/chats", params=params, headers=headers).json() or []
        if len(found) >= count:
            break
        time.sleep(0.05)
    return found


def test_polls_that_fail_fast_end_the_apply_when_the_window_closes(
    make_sim: Any, tmp_path: Path
) -> None:
    """Every poll reset at once (the server closes the connection unanswered): the apply ends
    when the window closes, not at the first poll after it (polls are 10 s apart here)."""
    sim = make_sim("2.38.0")
    manifest = write_manifest(tmp_path, MANIFEST)
    args = ["apply", manifest, "--yes", "--poll-interval", "10s", "--lost-contact-after", "1s"]
    proc = start_tasks(args, env=sim_env(sim))
    try:
        assert sim.arrivals.wait("POST", "/api/v2/chats", count=2, timeout=EVENT_TIMEOUT)
        sim.faults.add(method="GET", path=r"^/api/v2/chats$", status=0, times=10_000)
        sim.arrivals.clear()
        # The first poll that fails opens the window (the first, or one 10 s later); the list
        # itself, not a single-chat read that follows a poll answered before the fault.
        assert sim.arrivals.wait("GET", "/api/v2/chats$", timeout=EVENT_TIMEOUT)
        failing_since = time.monotonic()
        out, err = proc.communicate(timeout=EVENT_TIMEOUT)
        ended_after = time.monotonic() - failing_since
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 1, out + err
    assert "lost contact with the deployment" in out + err
    assert ended_after <= 1 + SLACK_SECONDS, ended_after  # the next poll would be at 10 s


def _reap(server: subprocess.Popen[str]) -> None:
    """End the resumed simulator: it answers the connections queued while it was stopped
    before it exits, which takes longer than a moment on a loaded machine; what this test
    examines is the apply, so a slow exit is killed rather than failed."""
    try:
        server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate(timeout=10)


def test_a_capacity_read_that_never_answers_is_cut_at_the_lost_contact_window(
    make_sim: Any, tmp_path: Path
) -> None:
    """On v2.37+ a poll may read single chats (is one queued for capacity?). Those reads are
    the poll's too: one the server never answers ends by the window, and the polls go on,
    instead of the loop waiting out the read's own 60 s deadline."""
    sim = make_sim("2.38.0")
    sim.arrivals.hold("GET", "/api/v2/chats/*")  # single-chat reads; the list is answered
    manifest = write_manifest(tmp_path, MANIFEST)
    args = ["apply", manifest, "--yes", "--poll-interval", "200ms"]
    args += ["--lost-contact-after", f"{WINDOW_SECONDS:g}s"]
    proc = start_tasks(args, env=sim_env(sim))
    try:
        assert sim.arrivals.wait("GET", "/api/v2/chats/*", timeout=EVENT_TIMEOUT)
        held_at = time.monotonic()
        lists_before = _list_polls(sim)
        resumed = _until(lambda: _list_polls(sim) > lists_before, WINDOW_SECONDS + SLACK_SECONDS)
        waited = time.monotonic() - held_at
    finally:
        proc.kill()
        proc.communicate(timeout=10)
        sim.arrivals.release(timeout=EVENT_TIMEOUT)
    assert resumed, f"no list poll for {waited:.1f} s after a capacity read hung"


def _list_polls(sim: Any) -> int:
    return sum(1 for r in sim.requests if r["method"] == "GET" and r["path"] == "/api/v2/chats")


def _until(condition: Any, seconds: float) -> bool:
    """Whether `condition()` holds within `seconds` of real time (the bound under test)."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())
