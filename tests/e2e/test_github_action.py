"""The composite GitHub Action (`action.yml`) run as GitHub runs it, against the simulator.

Each `run:` step of action.yml is run with bash (`bash --noprofile --norc -eo pipefail`, GitHub's
`shell: bash`), with the files GitHub gives a step (GITHUB_OUTPUT per step, GITHUB_ENV and
GITHUB_STEP_SUMMARY per job) in a temporary directory, `${{ inputs.* }}`,
`${{ github.action_path }}` and `${{ steps.*.outputs.* }}` substituted, and the action's outputs
read back as GitHub maps them. No network: the action's `tasks` input points at the `tasks` of
the test's own virtualenv (the project installed as `make install` does), so the install step
takes its documented "already installed" branch instead of installing from PyPI's
dependencies. Any other `${{ }}` expression fails the test, so the action cannot grow one this
harness would silently skip.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from conftest import ROOT, sim_env, tasks_env, write_manifest

from runner.coder.chats import ChatsClient
from runner.coder.config import Connection

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXAMPLE = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text())
#: The `tasks` of the virtualenv running the tests (`make install`: the project, editable).
TASKS = str(Path(sys.executable).parent / "tasks")
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
BATCH = """\
version: 1
batch: ci
defaults: {{backend: chats, timeout: 60s, idle_grace: 100ms, poll_interval: 50ms}}
tasks:
  - name: fix
    prompt: "Fix the build at {{{{ vars.commit }}}} [sim:work=1] [sim:pr]"
{more}"""


@dataclass
class Run:
    code: int
    outputs: dict[str, str]
    summary: str
    log: str


def expand(text: str, values: dict[str, str]) -> str:
    """`text` with every `${{ ... }}` GitHub would expand here replaced; an unknown one fails."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("steps.") and name not in values:
            return ""  # a step that did not set it (or did not run): GitHub expands to ""
        assert name in values, f"action.yml uses ${{{{ {name} }}}}, which this harness lacks"
        return values[name]

    return EXPRESSION.sub(value, text)


def read_outputs(path: Path) -> dict[str, str]:
    """A GITHUB_OUTPUT file: `name=value` lines (and `name<<DELIMITER` blocks)."""
    found: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            found[name] = "\n".join(block)
        elif "=" in line:
            name, text = line.split("=", 1)
            found[name] = text
    return found


def run_action(sim: Any, tmp_path: Path, **inputs: str) -> Run:
    """The action's steps in order, as a composite action runs them; stops at a failing step."""
    given = {name.replace("_", "-"): text for name, text in inputs.items()}
    unknown = set(given) - set(ACTION["inputs"])
    assert not unknown, f"action.yml declares no input {sorted(unknown)}"
    values = {f"inputs.{n}": str(s.get("default", "")) for n, s in ACTION["inputs"].items()}
    values.update({f"inputs.{n}": text for n, text in given.items()})
    for name, spec in ACTION["inputs"].items():
        assert not spec.get("required") or values[f"inputs.{name}"], f"input {name} is required"
    values["github.action_path"] = str(ROOT)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    job_env, summary = temp / "github-env", temp / "step-summary"
    job_env.touch()
    summary.touch()
    base = tasks_env(sim_env(sim))
    base.update(
        RUNNER_TEMP=str(temp),
        GITHUB_ENV=str(job_env),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_ACTION_PATH=str(ROOT),
        GITHUB_WORKSPACE=str(tmp_path),
    )
    assert ACTION["runs"]["using"] == "composite"
    code, log = 0, ""
    for number, step in enumerate(ACTION["runs"]["steps"]):
        assert step["shell"] == "bash" and "uses" not in step
        env = dict(base)
        env.update(read_outputs(job_env))  # what earlier steps put in GITHUB_ENV
        env.update({k: expand(str(v), values) for k, v in (step.get("env") or {}).items()})
        output = temp / f"output-{number}"
        output.touch()
        env["GITHUB_OUTPUT"] = str(output)
        script = temp / f"step-{number}.sh"
        script.write_text(expand(step["run"], values))
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=240,
        )
        log += proc.stdout + proc.stderr
        for name, text in read_outputs(output).items():
            values[f"steps.{step.get('id', number)}.outputs.{name}"] = text
        code = proc.returncode
        if code != 0:
            break
    outputs = {name: expand(str(spec["value"]), values) for name, spec in ACTION["outputs"].items()}
    assert "Traceback" not in log and sim.token not in log + summary.read_text()
    return Run(code, outputs, summary.read_text(), log)


def test_the_action_applies_a_batch_and_sets_its_outputs(make_sim: Any, tmp_path: Path) -> None:
    sim = make_sim("2.38.0")
    path = write_manifest(tmp_path, BATCH.format(more=""))
    run = run_action(sim, tmp_path, manifest=path, args="--var commit=abc123", tasks=TASKS)
    assert run.code == 0, run.log
    assert run.outputs["outcome"] == "ok"
    report = json.loads(Path(run.outputs["report"]).read_text())
    assert report["exit_code"] == 0 and [t["outcome"] for t in report["tasks"]] == ["ok"]
    assert (Path(run.outputs["report"]).parent / "tasks-junit.xml").is_file()
    pulls = json.loads(run.outputs["pull-requests"])
    assert [p["name"] for p in pulls] == ["fix"] and pulls[0]["url"].startswith("https://")
    assert pulls == report["pull_requests"]
    # The step summary is the command's own (written because GITHUB_STEP_SUMMARY is set).
    assert "fix" in run.summary and pulls[0]["url"] in run.summary
    # `args` reached the command: the prompt was rendered with --var.
    client = ChatsClient(Connection(url=sim.url, token=sim.token))
    (chat,) = client.list_chats()
    assert next(m.text for m in client.history(chat.id) if m.role == "user") == (
        "Fix the build at abc123 [sim:work=1] [sim:pr]"
    )


def test_a_missed_expectation_fails_the_step_and_still_sets_the_outputs(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    more = """\
  - name: docs
    prompt: "Write the docs [sim:work=1]"
    expect: {pull_request: opened}
"""
    path = write_manifest(tmp_path, BATCH.format(more=more))
    run = run_action(sim, tmp_path, manifest=path, args="--var commit=abc123", tasks=TASKS)
    assert run.code == 4, run.log
    assert run.outputs["outcome"] == "failed"
    assert [p["name"] for p in json.loads(run.outputs["pull-requests"])] == ["fix"]
    outcomes = {
        t["name"]: t["outcome"]
        for t in json.loads(Path(run.outputs["report"]).read_text())["tasks"]
    }
    assert outcomes == {"fix": "ok", "docs": "failed"}
    assert "docs" in run.summary


def test_an_invalid_manifest_is_outcome_invalid_and_creates_nothing(
    make_sim: Any, tmp_path: Path
) -> None:
    sim = make_sim("2.38.0")
    path = write_manifest(tmp_path, BATCH.format(more=""))
    run = run_action(sim, tmp_path, manifest=path, tasks=TASKS)  # no --var commit=...
    assert run.code == 3, run.log
    assert run.outputs["outcome"] == "invalid"
    assert json.loads(run.outputs["pull-requests"]) == []
    assert "batch.tasks.yaml:6:13: tasks[0].prompt: vars.commit is undefined" in run.log
    assert sim.chats.chats == []


def test_the_example_workflow_uses_the_action_as_it_is_declared() -> None:
    """examples/github-actions.yml passes only inputs the action declares (every required one)
    and reads only outputs it sets."""
    steps = [s for job in EXAMPLE["jobs"].values() for s in job["steps"]]
    (step,) = [s for s in steps if s.get("uses") == "./"]
    given = set(step["with"])
    assert given <= set(ACTION["inputs"])
    required = {n for n, s in ACTION["inputs"].items() if s.get("required")}
    assert required <= given
    text = (ROOT / "examples" / "github-actions.yml").read_text()
    read = set(re.findall(rf"steps\.{step['id']}\.outputs\.([\w-]+)", text))
    assert read and read <= set(ACTION["outputs"])
