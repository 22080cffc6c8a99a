"""Version parsing, API generation and the features that follow from the version."""

from __future__ import annotations

import pytest

from runner.coder.version import (
    deprecation_notices,
    development_notices,
    development_server_info,
    is_development_build,
    no_tasks_message,
    parse_version,
    server_info,
)
from runner.errors import UnsupportedServerError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v2.34.2+abc123", (2, 34, 2)),
        ("v2.28.11-devel+x", (2, 28, 11)),
        ("2.30.0-rc.1", (2, 30, 0)),
        ("v2.29.0", (2, 29, 0)),
        (" v2.31.1 ", (2, 31, 1)),
    ],
)
def test_parse_version(text: str, expected: tuple[int, int, int]) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["", "latest", "v2.34", "2.x.1", "v2.34.2 extra"])
def test_parse_version_rejects_non_versions(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version(text)


@pytest.mark.parametrize(
    ("version", "generation", "base"),
    [
        ("v2.28.0", "experimental", "/api/experimental/tasks"),
        ("v2.28.11-devel+x", "experimental", "/api/experimental/tasks"),
        ("v2.29.0", "ga", "/api/v2/tasks"),
        ("2.30.0-rc.1", "ga", "/api/v2/tasks"),
        ("v2.36.9", "ga", "/api/v2/tasks"),
    ],
)
def test_generation(version: str, generation: str, base: str) -> None:
    info = server_info(version)
    assert info.generation == generation
    assert info.task_base == base
    assert info.version == version


@pytest.mark.parametrize(
    ("version", "pause", "display_name", "busy_409", "deprecated"),
    [
        ("v2.28.11", False, False, False, False),
        ("v2.29.0", False, True, False, False),
        ("v2.31.0", False, True, False, False),
        ("v2.31.1", True, True, False, False),
        ("v2.32.0-rc.0", True, True, True, False),
        ("v2.34.2", True, True, True, False),
        ("v2.35.0", True, True, True, True),
    ],
)
def test_features_follow_version(
    version: str, pause: bool, display_name: bool, busy_409: bool, deprecated: bool
) -> None:
    info = server_info(version)
    assert info.supports_pause is pause
    assert info.supports_display_name is display_name
    assert info.busy_is_conflict is busy_409
    assert info.deprecated is deprecated
    assert bool(deprecation_notices(info)) is deprecated


@pytest.mark.parametrize(
    ("version", "may_be_off", "why"),
    [
        ("v2.34.2", False, " (they are switched off on this server)"),
        ("v2.36.1", True, " (they are switched off on this server)"),
        ("v2.37.0+deadbee", True, " (they are switched off on this server)"),
        ("v2.38.0", True, ": they were removed in Coder v2.38 (the successor is Coder Agents)"),
        ("v3.0.0", True, ": they were removed in Coder v2.38 (the successor is Coder Agents)"),
    ],
)
def test_whether_tasks_are_served_is_for_the_routes_to_say(
    version: str, may_be_off: bool, why: str
) -> None:
    # v2.37 serves Tasks where the deployment opts in (CHATS-CONTRACT 7.1): no version refuses.
    info = server_info(version)
    assert info.tasks_may_be_off is may_be_off
    shown = version.split("+")[0]
    assert no_tasks_message(info) == (
        f"this deployment (Coder {shown}) does not serve Coder Tasks{why}"
    )


@pytest.mark.parametrize("version", ["v2.27.9", "v2.26.0", "v1.40.0"])
def test_older_than_v2_28_is_unsupported(version: str) -> None:
    with pytest.raises(UnsupportedServerError, match=r"v2\.28 is the oldest supported"):
        server_info(version)


def test_deprecation_notice_text() -> None:
    (notice,) = deprecation_notices(server_info("v2.35.1"))
    assert notice.startswith("Coder Tasks are deprecated from Coder v2.35 and removed in v2.38; ")
    assert "v2.35.1" in notice
    assert "\n" not in notice


@pytest.mark.parametrize(
    ("version", "generation", "release"),
    [
        ("v0.0.0-devel+abc1234", "ga", (2, 34, 0)),
        ("v0.0.0-devel", "experimental", (2, 28, 11)),
        ("v2.30.0-devel+abc1234", "ga", (2, 30, 0)),
        ("v2.28.3-devel+abc1234", "experimental", (2, 28, 3)),
        # A tag the routes contradict (or that has no Tasks) gives way to the generation.
        ("v2.28.3-devel+abc1234", "ga", (2, 34, 0)),
        ("v2.31.0-devel+abc1234", "experimental", (2, 28, 11)),
        ("v2.38.0-devel+abc1234", "ga", (2, 34, 0)),
    ],
)
def test_development_build_release_follows_its_routes(
    version: str, generation: str, release: tuple[int, int, int]
) -> None:
    assert is_development_build(version)
    info = development_server_info(version, generation)
    assert (info.major, info.minor, info.patch) == release
    assert info.generation == generation and info.development
    assert info.short_version == version
    (notice,) = development_notices(info)
    assert version in notice


def test_releases_are_not_development_builds() -> None:
    assert not is_development_build("v2.34.2+abc123")
    assert not is_development_build("v2.32.0-rc.0")
    assert development_notices(server_info("v2.34.2")) == []
