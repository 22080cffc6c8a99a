"""An apply on a bad day: the deployment stops answering, the job is cancelled, the token dies.

Each test runs the real `tasks apply` in a subprocess against a simulated deployment and waits
on lines of its output (never a sleep) before doing something to it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, read_until, run_tasks, running_tasks, sim_env

FAST = ["--poll-interval", "200ms", "--idle-grace", "100ms", "--parallelism", "2"]

LONG_WORK = """\
version: 1
batch: slow
defaults: {template: claude-code, timeout: 10m}
tasks:
  - name: "job-{{ matrix.n }}"
    prompt: "job {{ matrix.n }} [sim:work=100000]"
    matrix:
      n: [1, 2, 3]
"""


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    return out, err


def reports(tmp_path: Path) -> list[str]:
    return ["--report", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml")]


def summary_env(sim: Any, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment for `sim` with a GitHub step summary file, and that file."""
    summary = tmp_path / "summary.md"
    return {**sim_env(sim), "GITHUB_STEP_SUMMARY": str(summary)}, summary


def read_reports(tmp_path: Path) -> tuple[dict[str, Any], ET.Element]:
    document = json.loads((tmp_path / "r.json").read_text())
    junit = ET.fromstring((tmp_path / "r.xml").read_text())
    return document, junit


@contextmanager
def sim_process() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """`tasks sim` in its own process, so a test can kill or freeze the whole deployment
    (an in-process server keeps serving open keep-alive connections after it stops)."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "runner", "sim", "--port", "0", "--time-scale", "0.02"],
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sim.stdout is not None
        env = dict(sim.stdout.readline().strip().split("=", 1) for _ in range(2))
        yield sim, env
    finally:
        sim.send_signal(signal.SIGCONT)  # a frozen process cannot die until it runs again
        sim.kill()
        sim.wait(timeout=10)
        if sim.stdout is not None:
            sim.stdout.close()


@pytest.mark.parametrize("how", ["killed", "frozen"])
def test_a_deployment_that_stops_answering_ends_the_run_as_lost_contact(
    tmp_path: Path, how: str
) -> None:
    manifest = tmp_path / "slow.tasks.yaml"
    summary = tmp_path / "summary.md"
    # A frozen server accepts connections and never answers: a deadline ends each poll (the
    # request's, or the lost-contact window's).
    args = ["--request-timeout", "1s", "apply", str(manifest), "--yes", *FAST, *reports(tmp_path)]
    if how == "killed":
        manifest.write_text(LONG_WORK)
        args += ["--lost-contact-after", "4s"]
    else:  # the grace period from the manifest instead of the flag
        manifest.write_text(
            LONG_WORK.replace("timeout: 10m", "timeout: 10m, lost_contact_after: 4s")
        )
    with (
        sim_process() as (sim, env),
        running_tasks(args, env={**env, "GITHUB_STEP_SUMMARY": str(summary)}) as proc,
    ):
        # Not on a terminal, a waiting apply prints how many tasks are in which state.
        seen = read_until(proc, "waiting: 0 done, 3 working")
        assert seen.count("created") >= 3, seen
        sim.send_signal(signal.SIGKILL if how == "killed" else signal.SIGSTOP)
        out, err = finish(proc)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in err
    # The first failed poll is reported, naming the error, before the run gives up: a poll
    # that starts while the deployment answers ends by half the window, retries included
    # (`runner/execute/contact.py`), so the warning comes with half the window left.
    warnings = [line for line in err.splitlines() if "cannot reach the deployment" in line]
    assert warnings and "(1 failed poll(s))" in warnings[0], err
    assert "giving up in" in warnings[0]
    named = "no complete response" if how == "frozen" else "connection refused"
    assert named in warnings[0], err
    assert "error: lost contact with the deployment" in err
    assert "3 unknown" in out and "0 timed out" in out, out
    document, junit = read_reports(tmp_path)
    assert document["exit_code"] == 1
    assert document["error"].startswith("lost contact with the deployment")
    assert [t["outcome"] for t in document["tasks"]] == ["unknown"] * 3
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("errors") == "3"
    assert "❔" in summary.read_text()


#: Each stop signal a job gets, with the exit code it means.
BY_SIGNAL = pytest.mark.parametrize(
    ("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["SIGTERM", "SIGHUP"]
)


@BY_SIGNAL
def test_a_cancelled_job_still_prints_and_writes_every_report(
    make_sim: Any, tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    sim = make_sim()
    manifest = tmp_path / "slow.tasks.yaml"
    manifest.write_text(LONG_WORK)
    env, summary = summary_env(sim, tmp_path)
    with running_tasks(
        ["apply", str(manifest), "--yes", *FAST, *reports(tmp_path)], env=env
    ) as proc:
        read_until(proc, "created", count=3)
        proc.send_signal(stop)
        out, err = finish(proc)
    assert proc.returncode == code, out + err
    assert "Traceback" not in err
    assert "3 interrupted" in out and "NAME" in out  # the table and the summary
    assert "Re-run" in err
    document, junit = read_reports(tmp_path)
    assert document["interrupted"] is True and document["exit_code"] == code
    assert {t["outcome"] for t in document["tasks"]} == {"interrupted"}
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("errors") == "3"
    assert "(interrupted)" in summary.read_text()


def test_an_interrupted_report_matches_the_tasks_on_the_server(
    make_sim: Any, tmp_path: Path
) -> None:
    # Slow creates: when the signal comes, some are on the wire. Each must end in the report
    # as created (its answer came) or as unknown (a re-run adopts it), never silently missing.
    sim = make_sim(latency_ms=300)
    body = LONG_WORK.replace("n: [1, 2, 3]", "n: [" + ", ".join(map(str, range(12))) + "]")
    manifest = tmp_path / "many.tasks.yaml"
    manifest.write_text(body)
    env = sim_env(sim)
    args = ["apply", str(manifest), "--yes", "--parallelism", "4", *reports(tmp_path)]
    with running_tasks(args, env=env) as proc:
        read_until(proc, "created", count=2)
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc)
    assert proc.returncode == 143, out + err
    document, _ = read_reports(tmp_path)
    listed = json.loads(run_tasks(["list", "--all", "-o", "json"], env=env).stdout)
    on_server = {t["id"] for t in listed}
    reported = {t["id"] for t in document["tasks"] if t["id"]}
    unknown = [t for t in document["tasks"] if "a re-run adopts it" in (t["error"] or "")]
    assert reported <= on_server
    assert len(on_server - reported) <= len(unknown), (on_server, document["tasks"])
    assert len(reported) >= 2


def test_a_preflight_failure_still_writes_the_reports(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim()
    manifest = tmp_path / "bad.tasks.yaml"
    manifest.write_text(LONG_WORK.replace("claude-code", "no-such-template"))
    result = run_tasks(["apply", str(manifest), "--yes", *reports(tmp_path)], env=sim_env(sim))
    assert result.code == 3, result.output
    assert "no-such-template" in result.stderr
    document, junit = read_reports(tmp_path)
    assert document["exit_code"] == 3 and document["tasks"] == []
    assert "no-such-template" in document["error"]
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    error = junit.find("testsuite/testcase/error")
    assert error is not None and "no-such-template" in (error.get("message") or "")


def test_a_token_revoked_mid_apply_ends_with_reports(make_sim: Any, tmp_path: Path) -> None:
    # Coder deletes an API key with `DELETE /api/v2/users/{user}/keys/{keyid}`
    # (coderd/apikey.go at v2.28.0); every later request with it gets 401 "API key is
    # invalid." (coderd/httpmw/apikey.go). The test deletes the simulated key directly.
    sim = make_sim()
    manifest = tmp_path / "slow.tasks.yaml"
    manifest.write_text(LONG_WORK)
    with running_tasks(
        ["apply", str(manifest), "--yes", *FAST, *reports(tmp_path)], env=sim_env(sim)
    ) as proc:
        read_until(proc, "created", count=3)
        admin = sim.directory.find_user("admin")
        admin.token_id = "revoked000"
        out, err = finish(proc)
    assert proc.returncode == 1, out + err
    assert "Traceback" not in err and "signed out" in err.lower()
    assert "NAME" in out  # the table was printed before the error
    document, junit = read_reports(tmp_path)
    assert document["exit_code"] == 1 and "signed out" in document["error"].lower()
    assert [t["outcome"] for t in document["tasks"]] == ["unknown"] * 3
    assert all(t["id"] for t in document["tasks"])
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("errors") == "3"


@pytest.mark.parametrize("value", ["0", "-1s", "soon"])
def test_a_bad_lost_contact_after_is_refused_with_its_location(tmp_path: Path, value: str) -> None:
    manifest = tmp_path / "bad.tasks.yaml"
    manifest.write_text(LONG_WORK.replace("timeout: 10m", f"lost_contact_after: {value!r}"))
    result = run_tasks(["validate", str(manifest)])
    assert result.code == 3, result.output
    assert "lost_contact_after" in result.stderr and f"{manifest}:3" in result.stderr
    flag = run_tasks(["apply", str(tmp_path / "x.yaml"), "--lost-contact-after", value])
    assert flag.code == 3 and "--lost-contact-after" in flag.stderr, flag.output
