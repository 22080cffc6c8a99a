"""Which Coder release the simulator imitates, and the behaviour that follows from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from runner.errors import InvalidInputError

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
#: A development build as Coder names one (`buildinfo/buildinfo.go`, v2.31.1): `v0.0.0-devel`
#: for a build with no tag, `<tag>-devel` for one from an untagged commit; `+<sha>` may follow.
_DEVEL = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)-devel(?:\+[0-9A-Za-z.-]+)?$")
#: What a `v0.0.0-devel` build behaves as: a build of main, the newest GA line simulated.
DEVEL_BEHAVES_AS = "2.34.2"


class SimVersionError(InvalidInputError, ValueError):
    """A Coder version the simulator cannot imitate: malformed, or older than v2.28.

    A user's input (`--coder-version`, `--sim-version`), so the CLI shows it as one line, exit 3.
    """


@dataclass(frozen=True)
class SimVersion:
    """A Coder server version (`2.34.2`, `v2.32.0-rc.0`) and its Tasks feature switches."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    #: The version buildinfo reports, when it is not the release itself (a development build).
    reported: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> SimVersion:
        """Parse `text`; raise SimVersionError for malformed versions and releases before v2.28.

        A development build (`v0.0.0-devel+abc123`, `v2.30.0-devel+abc123`) is reported as
        written and behaves as its tag, or as `DEVEL_BEHAVES_AS` when it has none (v0.0.0).
        """
        devel = _DEVEL.match(text.strip())
        if devel:
            tag = ".".join(devel.groups())
            behaves = cls.parse(DEVEL_BEHAVES_AS if tag == "0.0.0" else tag)
            shown = text.strip()
            return replace(behaves, reported=shown if shown.startswith("v") else f"v{shown}")
        match = _VERSION.match(text.strip())
        if not match:
            raise SimVersionError(f"invalid Coder version {text!r}: expected e.g. 2.34.2")
        major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
        version = cls(major, minor, patch, match.group(4) or "")
        if version.key < (2, 28, 0):
            raise SimVersionError(f"Coder version {text!r} is not simulated: the oldest is 2.28.0")
        return version

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        """True from `major.minor.patch` on; a pre-release counts as its release."""
        return self.key >= (major, minor, patch)

    def __str__(self) -> str:
        suffix = f"-{self.prerelease}" if self.prerelease else ""
        return f"{self.major}.{self.minor}.{self.patch}{suffix}"

    @property
    def build_version(self) -> str:
        """What `GET /api/v2/buildinfo` reports as `version`."""
        return self.reported or f"v{self}+sim"

    @property
    def is_ga(self) -> bool:
        """v2.29+: `/api/v2/tasks`, names in paths, display_name, PATCH input."""
        return self.at_least(2, 29)

    @property
    def has_pause(self) -> bool:
        """v2.31.1+: pause/resume routes and log snapshots."""
        return self.at_least(2, 31, 1)

    @property
    def pending_start_is_pending(self) -> bool:
        """v2.31.1+: a queued start job reports `pending` (it was `initializing`)."""
        return self.at_least(2, 31, 1)

    @property
    def unknown_user_not_found(self) -> bool:
        """v2.31.1+: an unknown `{user}` is 404 (400 before; CONTRACT 1.5)."""
        return self.at_least(2, 31, 1)

    @property
    def conflict_for_inactive(self) -> bool:
        """v2.31.1+: send/logs answer 409 (not 400) for pending, initializing or paused tasks."""
        return self.at_least(2, 31, 1)

    @property
    def busy_is_conflict(self) -> bool:
        """v2.32+: a busy AgentAPI gives 409 (502 before)."""
        return self.at_least(2, 32)

    @property
    def maps_failure_to_failed(self) -> bool:
        """v2.32+: the agent's `failure` report is shown as `failed`."""
        return self.at_least(2, 32)

    @property
    def tasks_removed(self) -> bool:
        """v2.38+: the Tasks API, its CLI and the flag are gone (CHATS-CONTRACT 7.1, PR #28789)."""
        return self.at_least(2, 38)

    @property
    def tasks_switchable(self) -> bool:
        """v2.36 and v2.37 may serve Tasks or not: CODER_ENABLE_AI_TASKS came in v2.37 (PR
        #28008), while Coder's docs call Tasks off by default from v2.36 (CHATS-CONTRACT 7.1)."""
        return self.at_least(2, 36) and not self.tasks_removed

    @property
    def tasks_by_default(self) -> bool:
        """Whether Tasks are served unless switched: yes to v2.36 (ungated routes in
        `coderd/coderd.go` before erickirt/coder 8203b2eb), no on v2.37 (the flag defaults to
        false, `codersdk/deployment.go` at erickirt/coder c9a1e2bc), and never from v2.38."""
        return not self.at_least(2, 37)

    def serves_tasks(self, enable_ai_tasks: bool | None = None) -> bool:
        """Whether the task routes exist, given the deployment's switch (None: its default).

        Raises SimVersionError for a switch the release does not have: none before v2.36 (the
        routes are unconditional there), none from v2.38 (removed with Tasks, PR #28789).
        """
        if enable_ai_tasks is None:
            return self.tasks_by_default and not self.tasks_removed
        if enable_ai_tasks and self.tasks_removed:
            raise SimVersionError(
                f"Coder {self} cannot serve Tasks: v2.38 removed them and CODER_ENABLE_AI_TASKS"
            )
        if not enable_ai_tasks and not self.tasks_switchable and not self.tasks_removed:
            raise SimVersionError(f"Coder {self} cannot switch Tasks off: only v2.36 and v2.37 can")
        return enable_ai_tasks
