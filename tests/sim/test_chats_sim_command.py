"""`tasks sim --experiments agents`: Chats on v2.32 and v2.33 only with the experiment on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from conftest import ROOT


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ([], 403, "Agents functionality requires enabling the 'agents' experiment."),
        (["--experiments", "agents"], 200, None),
    ],
    ids=["off", "on"],
)
def test_the_agents_experiment_switches_chats_on(
    args: list[str], status: int, message: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODER_", "TASKS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "sim", "--port", "0", "--coder-version", "2.33.0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().split("=", 1)[1]
        token = process.stdout.readline().strip().split("=", 1)[1]
        headers = {"Coder-Session-Token": token}
        response = httpx.get(f"{url}/api/experimental/chats", headers=headers)
        assert response.status_code == status
        if message is not None:
            assert response.json() == {"message": message}
        else:
            assert response.json() == []
        assert httpx.get(f"{url}/api/v2/chats", headers=headers).status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0
