"""`tasks sim` as a user runs it: a subprocess that prints its URL and token, then serves."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from conftest import ROOT, run_tasks


def _start(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "TASKS_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "runner", "sim", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
        env=env,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_sim_prints_url_and_token_then_serves(stop_signal: signal.Signals) -> None:
    process = _start("--coder-version", "2.28.11", "--time-scale", "0.02", "--seed", "4")
    try:
        assert process.stdout is not None
        url_line = process.stdout.readline().rstrip("\n")
        token_line = process.stdout.readline().rstrip("\n")
        notice = process.stdout.readline()
        assert url_line.startswith("CODER_URL=http://127.0.0.1:")
        assert token_line.startswith("CODER_SESSION_TOKEN=")
        assert "simulated" in notice.lower() and "Ctrl+C" in notice
        url = url_line.split("=", 1)[1]
        token = token_line.split("=", 1)[1]
        info = httpx.get(f"{url}/api/v2/buildinfo").json()
        assert info["version"] == "v2.28.11+sim"
        me = httpx.get(f"{url}/api/v2/users/me", headers={"Coder-Session-Token": token})
        assert me.json()["username"] == "admin"
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out == "" and err == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--coder-version", "2.20.0"], "--coder-version"),
        (["--coder-version", "banana"], "--coder-version"),
        (["--time-scale", "0"], "--time-scale"),
        (["--fail-rate", "2"], "--fail-rate"),
        (["--latency-ms", "-1"], "--latency-ms"),
        (["--port", "70000"], "--port"),
        (["--port", "abc"], "--port: 'abc' is not an integer"),
        (["--time-scale", "fast"], "--time-scale: 'fast' is not a number"),
    ],
)
def test_bad_options_exit_3_with_one_line(args: list[str], message: str) -> None:
    result = run_tasks(["sim", *args], timeout=20)
    assert result.code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.output


def test_sim_reports_a_development_build() -> None:
    """`v0.0.0-devel+<sha>` is how Coder names an untagged build (`buildinfo/buildinfo.go`)."""
    devel = "v0.0.0-devel+abc123"
    process = _start("--coder-version", devel)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().split("=", 1)[1]
        process.stdout.readline()
        assert f"{devel}, behaving as v2.34.2" in process.stdout.readline()
        assert httpx.get(f"{url}/api/v2/buildinfo").json()["version"] == devel
    finally:
        process.terminate()
        process.communicate(timeout=10)
    help_text = run_tasks(["sim", "--help"]).stdout
    assert "--build-version" in help_text and "v0.0.0-devel" in help_text
    inside = run_tasks(["--sim", "--sim-version", devel, "list"])
    assert inside.code == 0, inside.output
    assert f"Simulated Coder deployment {devel} at" in inside.stderr
    assert sum("development build" in line for line in inside.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "served"),
    [
        (["--coder-version", "2.37.0", "--enable-ai-tasks"], True),
        (["--coder-version", "2.37.0"], False),
        (["--coder-version", "2.36.0", "--disable-ai-tasks"], False),
        (["--coder-version", "2.36.0"], True),
    ],
)
def test_sim_switches_tasks_as_coder_enable_ai_tasks_does(args: list[str], served: bool) -> None:
    """CHATS-CONTRACT 7.1: v2.37 serves Tasks only with CODER_ENABLE_AI_TASKS (PR #28008)."""
    process = _start(*args)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().split("=", 1)[1]
        token = process.stdout.readline().strip().split("=", 1)[1]
        answer = httpx.get(f"{url}/api/v2/tasks", headers={"Coder-Session-Token": token})
        if served:
            assert answer.status_code == 200
        else:
            assert (answer.status_code, answer.json()) == (404, {"message": "Route not found."})
    finally:
        process.terminate()
        process.communicate(timeout=10)
