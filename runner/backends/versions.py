"""Template versions the creates of one apply have judged (a Tasks rule: `TasksBackend` keeps
them), shared by all its tasks.

Coder tells a client beforehand only whether a template's *active* version can run tasks; a
pinned version is judged by the create alone (CONTRACT 1.6). So the first create of a pinned
version goes out alone, and when Coder refuses it as no AI-task template, every other task of
that version fails with the same message without sending a create of its own. All calls come
from the engine's thread, so no lock is needed.
"""

from __future__ import annotations


class VersionVerdicts:
    """What the creates so far showed about each template version (by id)."""

    def __init__(self) -> None:
        self._refused: dict[str, str] = {}  # version id -> the error the create gave
        self._accepted: set[str] = set()
        self._trying: set[str] = set()  # versions with a first create under way

    def refusal(self, version_id: str) -> str | None:
        """The error a create of this version got when Coder refused the version; else None."""
        return self._refused.get(version_id)

    def claim(self, version_id: str, *, judged_before: bool) -> bool:
        """May a create of this version go out now?

        A version preflight could not judge (`judged_before` false) is tried by one create at
        a time until a create succeeds; the others wait for that verdict.
        """
        if judged_before or version_id in self._accepted:
            return True
        if version_id in self._trying:
            return False
        self._trying.add(version_id)
        return True

    def settle(
        self, version_id: str, *, claimed: bool, accepted: bool = False, refused: str = ""
    ) -> None:
        """Record a create's outcome: accepted, refused (with its error), or neither (unknown).

        `claimed`: this create was the one trying the version, so another may try now.
        """
        if claimed:
            self._trying.discard(version_id)
        if accepted:
            self._accepted.add(version_id)
        elif refused:
            self._refused[version_id] = refused
