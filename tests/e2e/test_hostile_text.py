"""Hostile server text: escape sequences a server sends are shown, never obeyed.

A prompt full of control characters comes back from the simulator in every field that echoes
it (display name, initial prompt, the agent's status messages, log entries, the batch's
results), and a Coder error body can quote it too (an unknown template version is named in
Coder's `message`). Every command that prints those fields must print no raw ESC,
BEL, C1 or other control character, while showing the text in a visible form; `-o json` and
`--report` keep the exact characters.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from conftest import Result, run_tasks, sim_env

#: Retitles the terminal (OSC ... BEL), clears the screen (CSI), a C1 CSI, backspace, carriage
#: return and a right-to-left override.
PAYLOAD = "\x1b]0;pwned\x07\x1b[2J\x9b1m\x08\r\u202eZ"
#: How the start of the payload looks once neutralised.
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\x9b1m\\b"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
POLL = ["--poll-interval", "50ms"]


def inert(result: Result, *, shows: bool = True) -> Result:
    """No raw control character reached stdout or stderr; with `shows`, the payload did."""
    assert "Traceback" not in result.output, result.output
    found = RAW.search(result.output)
    assert found is None, f"raw {found.group()!r} in output: {result.output!r}"
    if shows:
        assert SHOWN in result.output, result.output
    return result


def test_imperative_commands_neutralise_server_text(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    # Work that outlasts the test however loaded the machine: the message stays the working one.
    prompt = f"{PAYLOAD} review [sim:work=100000]"

    created = inert(run_tasks(["create", "--name", "hostile-1", prompt], env=env), shows=False)
    assert created.code == 0, created.output
    bad_preset = inert(run_tasks(["create", "--preset", PAYLOAD, "x"], env=env))
    assert bad_preset.code != 0
    # Coder's error message quotes the unknown template version as it was sent.
    bad_version = inert(run_tasks(["create", "--template-version", PAYLOAD, "x"], env=env))
    assert "No template version found by name" in bad_version.stderr

    # The agent's status message quotes the prompt once it starts working.
    deadline = time.monotonic() + 120
    while True:
        as_json = run_tasks(["status", "hostile-1", "-o", "json"], env=env)
        state = json.loads(as_json.stdout).get("current_state") or {}
        if "looking into" in str(state.get("message", "")):
            break
        assert time.monotonic() < deadline, "the agent never reported working"
    # JSON keeps the characters exactly as the server sent them.
    assert "\x1b]0;pwned\x07\x1b[2J\x9b1m\x08" in state["message"]

    columns = "name,message,initial prompt" + (",display name" if sim.version.is_ga else "")
    listed = inert(run_tasks(["list", "-c", columns], env=env))
    assert listed.code == 0
    listed_json = run_tasks(["list", "-o", "json"], env=env)
    assert json.loads(listed_json.stdout)[0]["initial_prompt"] == prompt

    # Whichever step the agent is at, its message quotes the prompt.
    status = inert(run_tasks(["status", "hostile-1"], env=env))
    assert status.code == 0

    logs = inert(run_tasks(["logs", "hostile-1"], env=env))
    assert logs.code == 0
    logs_json = run_tasks(["logs", "hostile-1", "-o", "json"], env=env)
    assert json.loads(logs_json.stdout)[0]["content"] == prompt

    # The client quotes an identifier it cannot find in Go's style; still nothing raw.
    assert inert(run_tasks(["send", PAYLOAD, "hi", *POLL], env=env), shows=False).code != 0
    assert inert(run_tasks(["delete", PAYLOAD, "--yes"], env=env), shows=False).code != 0
    deleted = inert(run_tasks(["delete", "hostile-1", "--yes"], env=env), shows=False)
    assert deleted.code == 0


def test_batch_commands_neutralise_server_text(sim: Any, tmp_path: Path) -> None:
    env = sim_env(sim)
    # YAML escapes: the manifest file itself holds no control characters.
    yaml_payload = "\\e]0;pwned\\a\\e[2J\\x9b1m\\b\\r\\u202eZ"
    path = tmp_path / "hostile.tasks.yaml"
    path.write_text(
        "version: 1\nbatch: hostile\ndefaults:\n  template: claude-code\n  timeout: 60s\n"
        f'tasks:\n  - name: h1\n    prompt: "{yaml_payload} review [sim:work=2]"\n'
    )
    planned = inert(run_tasks(["plan", str(path)], env=env), shows=False)
    assert planned.code == 0, planned.output

    summary = tmp_path / "summary.md"
    report = tmp_path / "report.json"
    junit = tmp_path / "junit.xml"
    reports = ["--report", str(report), "--junit", str(junit)]
    applied = inert(
        run_tasks(
            ["apply", str(path), "--yes", *POLL, "--idle-grace", "100ms", *reports],
            env={**env, "GITHUB_STEP_SUMMARY": str(summary)},
        )
    )
    assert applied.code == 0, applied.output
    # The reports a person reads are inert too; the JSON report keeps the exact text.
    assert RAW.search(summary.read_text()) is None
    # Markdown escapes the brackets (`\[` renders as `[`), so no link can start there.
    assert SHOWN.replace("[", "\\[").replace("]", "\\]") in summary.read_text()
    junit_text = junit.read_text()
    assert RAW.search(junit_text) is None
    ElementTree.fromstring(junit_text)  # well-formed XML
    document = json.loads(report.read_text())
    assert "\x1b]0;pwned\x07\x1b[2J\x9b1m\x08" in document["tasks"][0]["message"]

    # A manifest naming a template the server does not have: the error quotes it (escaped).
    hostile_template = f'template: "{yaml_payload}"'
    path.write_text(path.read_text().replace("template: claude-code", hostile_template))
    bad = inert(run_tasks(["plan", str(path)], env=env), shows=False)
    assert bad.code != 0


def strings(value: Any) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_chat_views_neutralise_server_text() -> None:
    """On a deployment that serves Chats, the chat table and conversation are inert too."""
    from runner.coder.chats import ChatsClient
    from runner.coder.config import Connection
    from runner.sim.server import SimServer

    server = SimServer(coder_version="2.38.0", time_scale=0.05)
    server.start()
    try:
        env = {"CODER_URL": server.url, "CODER_SESSION_TOKEN": server.token}
        client = ChatsClient(Connection(url=server.url, token=server.token))
        chat = client.create_chat(f"{PAYLOAD} fix it [sim:work=1]", title=f"{PAYLOAD} title")
        listed = inert(run_tasks(["list"], env=env))
        assert listed.code == 0, listed.output
        assert inert(run_tasks(["status", chat.id], env=env)).code == 0
        logs = inert(run_tasks(["logs", chat.id], env=env))
        assert logs.code == 0, logs.output
        as_json = run_tasks(["logs", chat.id, "-o", "json"], env=env)
        # JSON keeps the user's text exactly.
        assert any(PAYLOAD in text for text in strings(json.loads(as_json.stdout)))
    finally:
        server.stop()
