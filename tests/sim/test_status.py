"""Status derivation (CONTRACT 2.1), table-driven per rule set and version."""

from __future__ import annotations

import pytest

from runner.sim.status import derive_status, synthesized_message, workspace_status
from runner.sim.versions import SimVersion

V228 = SimVersion.parse("2.28.11")
V229 = SimVersion.parse("2.29.0")
V2311 = SimVersion.parse("2.31.1")
V234 = SimVersion.parse("2.34.2")

# (transition, job, agent lifecycle, app health) -> status
V228_TABLE = [
    (None, None, None, None, "pending"),
    ("start", "failed", None, None, "error"),
    ("stop", "failed", None, None, "error"),
    ("stop", "succeeded", None, None, "paused"),
    ("delete", "succeeded", None, None, "paused"),
    ("start", "pending", None, None, "initializing"),
    ("start", "running", None, None, "initializing"),
    ("start", "succeeded", None, None, "initializing"),
    ("start", "succeeded", "created", None, "initializing"),
    ("start", "succeeded", "starting", "initializing", "initializing"),
    ("start", "succeeded", "ready", "unhealthy", "error"),
    ("start", "succeeded", "ready", "initializing", "initializing"),
    ("start", "succeeded", "ready", "healthy", "active"),
    ("start", "running", "ready", "disabled", "active"),
    ("start", "succeeded", "ready", None, "unknown"),
    ("start", "succeeded", "start_timeout", "healthy", "unknown"),
    ("start", "succeeded", "start_error", "healthy", "unknown"),
    ("start", "succeeded", "shutting_down", "healthy", "unknown"),
    ("stop", "pending", None, None, "unknown"),
    ("stop", "running", None, None, "unknown"),
    ("delete", "running", None, None, "unknown"),
    ("start", "canceling", None, None, "unknown"),
    ("start", "canceled", None, None, "unknown"),
]

GA_TABLE = [
    (None, None, None, None, "pending"),
    ("start", "failed", None, None, "error"),
    ("start", "canceling", None, None, "error"),
    ("start", "canceled", None, None, "error"),
    ("stop", "succeeded", None, None, "paused"),
    ("delete", "succeeded", None, None, "paused"),
    ("stop", "running", None, None, "unknown"),
    ("stop", "pending", None, None, "unknown"),
    ("start", "running", None, None, "initializing"),
    ("start", "succeeded", "created", None, "initializing"),
    ("start", "succeeded", "starting", "initializing", "initializing"),
    ("start", "succeeded", "ready", "initializing", "initializing"),
    ("start", "succeeded", "ready", "unhealthy", "error"),
    ("start", "succeeded", "ready", "healthy", "active"),
    ("start", "succeeded", "ready", "disabled", "active"),
    ("start", "succeeded", "ready", None, "unknown"),
    # GA goes on to the app for start_timeout/start_error (v2.28 says unknown).
    ("start", "succeeded", "start_timeout", "healthy", "active"),
    ("start", "succeeded", "start_error", "unhealthy", "error"),
    ("start", "succeeded", "shutting_down", "healthy", "unknown"),
    ("start", "succeeded", "off", None, "unknown"),
]


def _status(version: SimVersion, row: tuple[str | None, ...]) -> str:
    transition, job, agent, app = row[:4]
    return derive_status(
        version,
        has_workspace=transition is not None,
        transition=transition,
        job_status=job,
        agent_lifecycle=agent,
        app_health=app,
    )


@pytest.mark.parametrize("row", V228_TABLE, ids=lambda r: "-".join(str(x) for x in r))
def test_v228_rules(row: tuple[str | None, ...]) -> None:
    assert _status(V228, row) == row[4]


@pytest.mark.parametrize("version", [V229, V2311, V234], ids=str)
@pytest.mark.parametrize("row", GA_TABLE, ids=lambda r: "-".join(str(x) for x in r))
def test_ga_rules(version: SimVersion, row: tuple[str | None, ...]) -> None:
    assert _status(version, row) == row[4]


@pytest.mark.parametrize(
    ("version", "expected"),
    [(V228, "initializing"), (V229, "initializing"), (V2311, "pending"), (V234, "pending")],
    ids=str,
)
def test_pending_start_job_per_version(version: SimVersion, expected: str) -> None:
    assert _status(version, ("start", "pending", None, None)) == expected


def test_workspace_with_no_job_is_pending_everywhere() -> None:
    for version in (V228, V229, V234):
        assert (
            derive_status(
                version,
                has_workspace=True,
                transition="start",
                job_status=None,
                agent_lifecycle=None,
                app_health=None,
            )
            == "pending"
        )


@pytest.mark.parametrize(
    ("job", "agent", "app", "message"),
    [
        ("pending", None, None, "Workspace is pending"),
        ("running", None, None, "Workspace is starting"),
        ("succeeded", "created", None, "Agent is connecting"),
        ("succeeded", "starting", "initializing", "Agent is starting"),
        ("succeeded", "ready", "initializing", "App is initializing"),
        ("succeeded", None, None, "Initializing workspace agent"),
        ("succeeded", "ready", None, "Initializing workspace applications"),
    ],
)
def test_synthesized_messages(job: str, agent: str | None, app: str | None, message: str) -> None:
    assert synthesized_message(job, agent, app) == message


@pytest.mark.parametrize(
    ("transition", "job", "expected"),
    [
        ("start", "pending", "pending"),
        ("start", "running", "starting"),
        ("start", "succeeded", "running"),
        ("start", "failed", "failed"),
        ("stop", "running", "stopping"),
        ("stop", "succeeded", "stopped"),
        ("delete", "running", "deleting"),
        ("delete", "succeeded", "deleted"),
    ],
)
def test_workspace_status(transition: str, job: str, expected: str) -> None:
    assert workspace_status(transition, job) == expected
