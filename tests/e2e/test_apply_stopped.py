"""An apply stopped by a signal while a request is on the server: before any change (preflight),
and in the middle of creates. The simulator holds the named requests on arrival, with their
replies not yet sent, so the signal lands exactly there; nothing waits on a clock.
"""

from __future__ import annotations

import json
import queue
import signal
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import run_tasks, sim_env, start_tasks
from test_apply_trust import BY_SIGNAL, reports, summary_env

from runner import defaults

#: Generous bounds on waiting for an event; a pass takes a fraction of them.
EVENT_TIMEOUT = 60.0

#: The same tasks with a follow-up each: observing must read their logs.
LATER = 'prompt: "job {{ matrix.n }}"\n    follow_ups: ["later"]'

MANIFEST = """\
version: 1
batch: stopped
defaults: {template: claude-code, wait: none}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }}"
    matrix:
      n: [1, 2, 3]
"""


def stop_held(sim: Any, proc: Any, stop: signal.Signals) -> tuple[str, str]:
    """Signal `proc` (a request of it held on the server), then let the server go on."""
    try:
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=EVENT_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        assert sim.arrivals.release(timeout=EVENT_TIMEOUT)
    return str(out), str(err)


@BY_SIGNAL
def test_a_signal_during_preflight_writes_every_report(
    make_sim: Any, tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    sim = make_sim()
    manifest = tmp_path / "stopped.tasks.yaml"
    manifest.write_text(MANIFEST)
    env, summary = summary_env(sim, tmp_path)
    # Preflight resolves the template: GET /api/v2/organizations/{org}/templates/claude-code.
    sim.arrivals.hold("GET", "/api/v2/organizations/")
    proc = start_tasks(["apply", str(manifest), "--yes", *reports(tmp_path)], env=env)
    assert sim.arrivals.wait("GET", "/api/v2/organizations/", timeout=EVENT_TIMEOUT)
    out, err = stop_held(sim, proc, stop)
    assert proc.returncode == code, out + err
    assert "Traceback" not in err
    assert err.splitlines() == [f"Interrupted by {stop.name}: nothing was changed."]
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["interrupted"] is True and document["exit_code"] == code
    assert document["tasks"] == []
    assert document["error"] == (
        f"interrupted by {stop.name} before the plan was made; nothing was changed"
    )
    junit = ET.fromstring((tmp_path / "r.xml").read_text())
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    error = junit.find("testsuite/testcase/error")
    assert error is not None and stop.name in (error.get("message") or "")
    written = summary.read_text()
    assert "(interrupted)" in written and f"interrupted by {stop.name}" in written
    # Nothing was changed, and nothing is left half-done.
    assert [r for r in sim.requests if r["method"] != "GET"] == []
    listed = run_tasks(["list", "--all", "-o", "json"], env=sim_env(sim))
    assert listed.code == 0 and json.loads(listed.stdout) == [], listed.output


@pytest.mark.parametrize(
    ("version", "creates"),
    [("2.28.11", "/api/experimental/tasks/"), ("2.34.2", "/api/v2/tasks/")],
    ids=["v2.28", "v2.34"],
)
def test_creates_in_flight_at_sigterm_are_reported_unknown_and_adopted_by_a_rerun(
    make_sim: Any, tmp_path: Path, version: str, creates: str
) -> None:
    sim = make_sim(version)
    manifest = tmp_path / "stopped.tasks.yaml"
    manifest.write_text(MANIFEST)
    env = sim_env(sim)
    sim.arrivals.hold("POST", creates)
    args = ["apply", str(manifest), "--yes", "--parallelism", "2", *reports(tmp_path)]
    proc = start_tasks(args, env=env)
    # Both workers' creates are on the server, their replies not sent; the third waits.
    assert sim.arrivals.wait("POST", creates, count=2, timeout=EVENT_TIMEOUT)
    out, err = stop_held(sim, proc, signal.SIGTERM)
    assert proc.returncode == 143, out + err
    assert "Traceback" not in err and "Re-run" in err
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["interrupted"] is True and document["exit_code"] == 143
    unknown = [
        t for t in document["tasks"] if t["error"] == "create outcome unknown; a re-run adopts it"
    ]
    assert len(unknown) == 2, document["tasks"]
    assert all(t["outcome"] == "unknown" and t["id"] is None for t in unknown)
    # Released, the server carried out both creates the client never heard back from.
    on_server = json.loads(run_tasks(["list", "--all", "-o", "json"], env=env).stdout)
    assert {t["name"] for t in on_server} == {t["coder_name"] for t in unknown}
    # A re-run adopts them and creates only the third: one create per task in all.
    rerun = run_tasks(["apply", str(manifest), "--yes", *reports(tmp_path)], env=env)
    assert rerun.code == 0, rerun.output
    done = json.loads((tmp_path / "r.json").read_text())
    by_name = {t["name"]: t for t in done["tasks"]}
    for task in unknown:
        assert by_name[task["name"]]["action"] == "noop", by_name[task["name"]]
        assert by_name[task["name"]]["id"] in {t["id"] for t in on_server}
    listed = json.loads(run_tasks(["list", "--all", "-o", "json"], env=env).stdout)
    assert sorted(t["name"] for t in listed) == sorted({t["name"] for t in listed})
    assert len(listed) == 3
    posted = [r for r in sim.requests if r["method"] == "POST" and r["path"].startswith(creates)]
    assert [r["status"] for r in posted] == [201] * 3


def test_a_signal_while_observing_drops_the_log_reads_not_yet_begun(
    make_sim: Any, tmp_path: Path
) -> None:
    """Observing reads the logs of every task with follow-ups, PARALLELISM at a time; stopped,
    the reads still queued are not made (a CI runner's grace period is short)."""
    sim = make_sim()
    env = sim_env(sim)
    manifest = tmp_path / "stopped.tasks.yaml"
    count = 2 * defaults.PARALLELISM
    many = MANIFEST.replace("n: [1, 2, 3]", f"n: {list(range(count))}")
    manifest.write_text(many)
    assert run_tasks(["apply", str(manifest), "--yes"], env=env).code == 0
    manifest.write_text(many.replace('prompt: "job {{ matrix.n }}"', LATER))
    logs = "/api/v2/tasks/"  # GET /api/v2/tasks/{owner}/{id}/logs; the list has no slash
    sim.arrivals.clear()  # the first apply read each task it made
    sim.arrivals.hold("GET", logs)
    proc = start_tasks(["apply", str(manifest), "--yes", *reports(tmp_path)], env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    begun = defaults.PARALLELISM
    try:
        assert sim.arrivals.wait("GET", logs, count=begun, timeout=EVENT_TIMEOUT)
        proc.send_signal(signal.SIGTERM)
        # Reported and about to exit, while the reads begun are still held on the server.
        assert lines.get(timeout=EVENT_TIMEOUT) == "Interrupted by SIGTERM: nothing was changed.\n"
    finally:
        assert sim.arrivals.release(timeout=EVENT_TIMEOUT)
        proc.wait(timeout=EVENT_TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 143
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["interrupted"] is True and document["tasks"] == []
    logs_read = {r["path"] for r in sim.requests if r["path"].endswith("/logs")}
    assert len(logs_read) == begun, logs_read
