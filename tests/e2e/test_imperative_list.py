"""`tasks list` end to end: owner filters, --status, columns, JSON, quiet, sorting."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

from conftest import Result, run_tasks, sim_env

from runner.render.task_tables import TASK_COLUMNS


def ok(result: Result) -> Result:
    assert result.code == 0, result.output
    return result


def make_tasks(env: dict[str, str]) -> dict[str, str]:
    """Three tasks of admin's (created out of name order) and one of alice's; name -> id."""
    ids = {}
    for name in ("bravo", "alpha", "charlie"):
        ids[name] = ok(
            run_tasks(["create", "-q", "--name", name, f"{name} [sim:work=0]"], env=env)
        ).stdout.strip()
    ids["delta"] = ok(
        run_tasks(
            ["create", "-q", "--owner", "alice", "--name", "delta", "d [sim:work=0]"], env=env
        )
    ).stdout.strip()
    return ids


def wait_until_all_active(env: dict[str, str], count: int) -> None:
    """Poll `list` until `count` tasks are active (the simulated builds take a moment)."""
    deadline = time.monotonic() + 60
    while True:
        listed = json.loads(ok(run_tasks(["list", "--all", "-o", "json"], env=env)).stdout)
        if [t["status"] for t in listed] == ["active"] * count:
            return
        assert time.monotonic() < deadline, [t["status"] for t in listed]


def test_list_filters_sorts_and_formats(sim: Any) -> None:
    env = sim_env(sim)
    ids = make_tasks(env)

    mine = ok(run_tasks(["list"], env=env)).stdout.split("\n")
    assert mine[0].split() == ["NAME", "STATUS", "STATE", "STATE", "CHANGED", "MESSAGE"]
    assert [line.split()[0] for line in mine[1:4]] == ["alpha", "bravo", "charlie"]  # by name
    assert all(line.endswith("  ") for line in mine[:4])  # last column padded too
    assert mine[4:] == [""]

    everyone = ok(run_tasks(["ls", "--all", "-c", "owner name,name"], env=env)).stdout.split("\n")
    assert everyone[0] == "OWNER NAME  NAME     "
    assert {tuple(line.split()) for line in everyone[1:5]} == {
        ("admin", "alpha"),
        ("admin", "bravo"),
        ("admin", "charlie"),
        ("alice", "delta"),
    }
    # --user wins over --all.
    alices = ok(run_tasks(["list", "--all", "--user", "alice", "-q"], env=env)).stdout
    assert alices == ids["delta"] + "\n"

    # Quiet prints ids in server order (newest first), not sorted by name.
    quiet = ok(run_tasks(["list", "-q"], env=env)).stdout.split()
    assert quiet == [ids["charlie"], ids["alpha"], ids["bravo"]]

    raw = json.loads(ok(run_tasks(["list", "-o", "json", "--user", "me"], env=env)).stdout)
    assert [t["id"] for t in raw] == quiet
    assert list(raw[0])[:4] == ["id", "organization_id", "owner_id", "owner_name"]

    # The status filter is sent to the server; no match is "No tasks found." (or `[]`).
    wait_until_all_active(env, count=4)
    active = json.loads(
        ok(run_tasks(["list", "--all", "--status", "active", "-o", "json"], env=env)).stdout
    )
    assert sorted(t["id"] for t in active) == sorted(ids.values())
    assert {t["status"] for t in active} == {"active"}
    # The help's own example, `--status running`, lists the active (running) tasks.
    running = ok(run_tasks(["list", "--status", "running", "--quiet"], env=env)).stdout.split()
    assert running == [t["id"] for t in active if t["owner_name"] == "admin"]
    nothing = ok(run_tasks(["list", "--status", "error"], env=env))
    assert (nothing.stdout, nothing.stderr) == ("", "No tasks found.\n")
    assert ok(run_tasks(["list", "--status", "error", "-o", "json"], env=env)).stdout == "[]\n"
    queries = [unquote_plus(r["query"]) for r in sim.requests if r["path"].endswith("/tasks")]
    assert 'q=owner:"me" status:"error"' in queries


def test_every_column_can_be_shown(sim: Any) -> None:
    env = sim_env(sim)
    ok(run_tasks(["create", "--name", "cols", "Columns [sim:work=0]"], env=env))
    result = ok(run_tasks(["list", "-c", ",".join(TASK_COLUMNS)], env=env))
    header, row = result.stdout.rstrip("\n").split("\n")
    for column in TASK_COLUMNS:
        assert column.upper() in header
    assert "cols" in row and "Columns [sim:work=0]" in row
    # GA has a display name; on v2.28 the column renders blank.
    display = ok(run_tasks(["list", "-c", "display name,name"], env=env)).stdout.split("\n")[1]
    if sim.version.minor >= 29:
        assert display.split()[0] != "cols"
    else:
        assert display.split() == ["cols"]
