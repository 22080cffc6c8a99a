"""Which Coder release a deployment runs, and what that means for the Tasks API.

Coder's Tasks API changed shape across releases (CONTRACT section 0 and 13): v2.28 serves the
experimental routes, v2.29 to v2.37 the GA routes, v2.37 only where the deployment opts in with
CODER_ENABLE_AI_TASKS, and v2.38 removed Tasks (CHATS-CONTRACT 7.1). From v2.35 on, whether a
deployment serves them is learnt from its task routes, not from its version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from runner.coder.models import Task
from runner.errors import UnsupportedServerError

#: Oldest release with the `tasks` table and `/api/experimental/tasks` as this tool knows it.
OLDEST_SUPPORTED = (2, 28)
#: First GA release (`/api/v2/tasks`).
FIRST_GA = (2, 29)
#: First release where Tasks are deprecated (off by default in v2.35 and v2.36).
FIRST_DEPRECATED = (2, 35)
#: First release whose Tasks API is removed (CHATS-CONTRACT 7.1, PR #28789); v2.37 serves it
#: only where the deployment opts in (PR #28008).
TASKS_REMOVED = (2, 38)

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+.][0-9A-Za-z.+-]*)?$")

#: What a development build whose release is unknown is taken for, per generation its routes
#: show: the last experimental release, and the GA line of the newest contract (main of
#: 2026-06-19, the v2.34 line).
DEVELOPMENT_RELEASE = {"experimental": (2, 28, 11), "ga": (2, 34, 0)}
#: The task list route that shows each generation, probed in this order.
GENERATION_ROUTES = (("ga", "/api/v2/tasks"), ("experimental", "/api/experimental/tasks"))


@dataclass(frozen=True)
class ServerInfo:
    """What `GET /api/v2/buildinfo` told us, and what follows from it."""

    version: str  # as the server reports it, e.g. "v2.34.2+abc1234"
    major: int
    minor: int
    patch: int
    generation: str  # "experimental" (v2.28.x) or "ga" (v2.29+)
    dashboard_url: str
    #: A development build (`v0.0.0-devel+<sha>`, `<tag>-devel+<sha>`): the generation came
    #: from the routes it answers, and major/minor/patch are the release it is taken for.
    development: bool = False

    @property
    def task_base(self) -> str:
        """`/api/experimental/tasks` on v2.28, `/api/v2/tasks` from v2.29."""
        return "/api/experimental/tasks" if self.generation == "experimental" else "/api/v2/tasks"

    @property
    def supports_pause(self) -> bool:
        """pause/resume and log snapshots arrived in v2.31.1."""
        return (self.major, self.minor, self.patch) >= (2, 31, 1)

    @property
    def supports_display_name(self) -> bool:
        """`display_name` exists on GA servers only."""
        return self.generation == "ga"

    def ownership_mark(self, task: Task) -> str | None:
        """The display name ownership reads: None where the server has none (v2.28)."""
        return task.display_name if self.supports_display_name else None

    @property
    def busy_is_conflict(self) -> bool:
        """A busy agent answers 409 from v2.32 (502 before)."""
        return (self.major, self.minor) >= (2, 32)

    @property
    def deprecated(self) -> bool:
        """Tasks are deprecated from v2.35 (opt-in on v2.37, gone in v2.38)."""
        return (self.major, self.minor) >= FIRST_DEPRECATED

    @property
    def tasks_may_be_off(self) -> bool:
        """From v2.35 the task routes may be unserved (off, opt-in or removed): ask them."""
        return self.deprecated

    @property
    def short_version(self) -> str:
        """`v2.34.2`: the release without pre-release or build metadata.

        A development build is named as it reports itself: its release is only assumed.
        """
        if self.development:
            return self.version
        return f"v{self.major}.{self.minor}.{self.patch}"


def parse_version(text: str) -> tuple[int, int, int]:
    """`(major, minor, patch)` from a Coder version such as `v2.34.2+abc` or `2.30.0-rc.1`.

    Raises ValueError when `text` is not a version.
    """
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"not a Coder version: {text!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def is_development_build(version: str) -> bool:
    """`v0.0.0-devel+<sha>` or `<tag>-devel+<sha>`, as Coder's `buildinfo.IsDevVersion` tells.

    Coder names a build from an untagged commit so (`buildinfo/buildinfo.go`, v2.31.1): its
    numbers say nothing certain about which Tasks routes it serves.
    """
    return "-devel" in version


def development_server_info(version: str, generation: str, dashboard_url: str = "") -> ServerInfo:
    """The ServerInfo of a development build whose routes showed `generation`.

    The tag a `<tag>-devel+<sha>` build grew from gives its release when that agrees with the
    generation; otherwise (and for `v0.0.0-devel`) the generation's `DEVELOPMENT_RELEASE`.
    """
    try:
        tag = parse_version(version)
    except ValueError:
        tag = (0, 0, 0)
    serves_tasks = OLDEST_SUPPORTED <= tag[:2] < TASKS_REMOVED
    agrees = serves_tasks and _generation(tag) == generation
    major, minor, patch = tag if agrees else DEVELOPMENT_RELEASE[generation]
    release = server_info(f"v{major}.{minor}.{patch}", dashboard_url)
    return replace(release, version=version, development=True)


def _generation(release: tuple[int, int, int]) -> str:
    return "experimental" if release[:2] < FIRST_GA else "ga"


def development_notices(info: ServerInfo) -> list[str]:
    """The one warning line for a development build (empty for a release)."""
    if not info.development:
        return []
    route = dict(GENERATION_ROUTES)[info.generation]
    return [
        f"this deployment runs a Coder development build ({info.version}); it answers "
        f"{route}, so it is treated as Coder v{info.major}.{info.minor}.{info.patch}"
    ]


def server_info(version: str, dashboard_url: str = "") -> ServerInfo:
    """The ServerInfo for a reported version; whether it serves Tasks is for its routes to say
    (`tasks_may_be_off`, `no_tasks_message`).

    Raises ValueError for a malformed version and UnsupportedServerError for releases older
    than v2.28.
    """
    major, minor, patch = parse_version(version)
    shown = f"v{major}.{minor}.{patch}"
    if (major, minor) < OLDEST_SUPPORTED:
        raise UnsupportedServerError(
            f"this deployment (Coder {shown}) is too old for Coder Tasks as this tool uses them: "
            "Coder v2.28 is the oldest supported release"
        )
    generation = _generation((major, minor, patch))
    return ServerInfo(
        version=version,
        major=major,
        minor=minor,
        patch=patch,
        generation=generation,
        dashboard_url=dashboard_url,
    )


def no_tasks_message(info: ServerInfo) -> str:
    """The error for a deployment whose task routes answered `Route not found.`."""
    start = f"this deployment (Coder {info.short_version}) does not serve Coder Tasks"
    if (info.major, info.minor) >= TASKS_REMOVED:
        return f"{start}: they were removed in Coder v2.38 (the successor is Coder Agents)"
    return f"{start} (they are switched off on this server)"


def deprecation_notices(info: ServerInfo) -> list[str]:
    """The one-line notices a user should see for this server (empty when none)."""
    if not info.deprecated:
        return []
    return [
        "Coder Tasks are deprecated from Coder v2.35 and removed in v2.38; this deployment runs "
        f"Coder {info.short_version}, so plan the move to Coder Agents."
    ]
