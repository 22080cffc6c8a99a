"""Creates refused as "name taken" that nothing by that name explains.

A create answered 409 because the name is taken is normally followed by a lookup that finds
the holder: our own earlier create (adopted), or a workspace still being deleted (waited for).
When the lookup by owner and name finds nothing, Coder contradicts itself; the executor would
try again, and be refused again, until the task's timeout. So the backend counts those
contradictions per owner and name, and after a few the item fails with both of Coder's answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from runner.errors import ConflictError, NameContradictionError, NotFoundError

#: Contradictions in a row (create 409, then nothing found) before the item fails.
CONTRADICTION_TRIES = 3

Found = TypeVar("Found")


class NameConflicts:
    """The contradictions seen so far, per owner and name (one object per apply)."""

    def __init__(self, tries: int = CONTRADICTION_TRIES) -> None:
        self.tries = tries
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def holder(
        self, refused: ConflictError, owner: str, name: str, lookup: Callable[[], Found]
    ) -> Found:
        """What `lookup` (by `owner` and `name`) finds after a create was `refused`.

        When it finds nothing: `refused` again, for the executor to try later, or
        NameContradictionError once that happened `tries` times in a row.
        """
        key = (owner.lower(), name.lower())
        try:
            found = lookup()
        except NotFoundError as missing:
            with self._lock:
                count = self._seen[key] = self._seen.get(key, 0) + 1
            if count >= self.tries:
                raise NameContradictionError(
                    f"{owner}/{name}", refused, missing, count
                ) from refused
            raise refused from None
        with self._lock:
            self._seen.pop(key, None)
        return found
